"""Caption files as people's tools write them, read into one tag name per tag, and tags written back out.

A caption is a ``.txt`` beside a picture holding comma-separated tags (newlines count as commas). What
taggers and hand edits put in them is normalised to one name per tag:

* ``long_hair`` and ``long hair`` are the same tag: underscores become spaces, as kohya's
  ``--remove_underscore`` writes them, except in kaomoji (``^_^``, ``>_<``), whose underscore is a mouth;
* escaped brackets (``nero claudius \\(fate\\)``, which prompt syntax needs) are unescaped;
* prompt weights (``(smile:1.2)``) are dropped, the tag kept;
* ``undesired`` tags (trigger words that are not tags, such as a LoRA's activation word) are left out.

:func:`caption_text` writes tags back out with kohya's options, so a caption read again gives the same tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

# Kaomoji whose underscores are part of the face (the list kohya's and the WD taggers' scripts keep).
KAOMOJI = frozenset({"0_0", "(o)_(o)", "+_+", "+_-", "._.", "<o>_<o>", "<|>_<|>", "=_=", ">_<", "3_3", "6_9", ">_o",
                     "@_@", "^_^", "o_o", "u_u", "x_x", "|_|", "||_||"})
WEIGHTED = re.compile(r"^\((.+):\s*[-+]?\d*\.?\d+\s*\)$")  # (tag:1.2)


def normalise_tag(raw: str) -> str:
    """One tag as read from a caption, in its one name (see the module doc); "" for a blank."""
    tag = raw.strip()
    weighted = WEIGHTED.match(tag)
    if weighted:
        tag = weighted.group(1).strip()
    tag = tag.replace("\\(", "(").replace("\\)", ")")
    if tag not in KAOMOJI:
        tag = tag.replace("_", " ")
    return " ".join(tag.split())


def read_undesired(value: str) -> frozenset[str]:
    """``undesired_tags``: a file of tags (commas or lines) when such a file exists, else comma-separated tags."""
    path = Path(value).expanduser() if value else None
    text = path.read_text(encoding="utf-8", errors="replace") if path is not None and path.is_file() else value
    return frozenset(t for t in (normalise_tag(part) for part in re.split(r"[,\n]", text)) if t)


def read_caption(text: str, undesired: Iterable[str] = ()) -> tuple[str, ...]:
    """The tags of a caption's text: normalised, without blanks, undesired tags and duplicates, in order."""
    unwanted = {normalise_tag(t) for t in undesired}
    tags = (normalise_tag(part) for part in re.split(r"[,\n]", text))
    return tuple(dict.fromkeys(t for t in tags if t and t not in unwanted))


def written_tag(tag: str, remove_underscore: bool = False, escape_brackets: bool = False) -> str:
    """A tag as a caption holds it: ``remove_underscore`` writes underscores as spaces (kaomoji kept),
    ``escape_brackets`` writes ``(`` and ``)`` as ``\\(`` and ``\\)`` (what prompt syntax needs)."""
    if remove_underscore and tag not in KAOMOJI:
        tag = tag.replace("_", " ")
    if escape_brackets and tag not in KAOMOJI:
        tag = tag.replace("(", "\\(").replace(")", "\\)")
    return tag


def caption_text(tags: Iterable[str], remove_underscore: bool = False, escape_brackets: bool = False,
                 separator: str = ", ") -> str:
    """The caption line of ``tags``, in their order, each once."""
    out = (written_tag(t, remove_underscore, escape_brackets) for t in tags)
    return separator.join(dict.fromkeys(out))


__all__ = ["KAOMOJI", "caption_text", "normalise_tag", "read_caption", "read_undesired", "written_tag"]
