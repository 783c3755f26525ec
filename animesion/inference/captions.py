"""Captions for a folder: one caption file per picture, from a checkpoint's tag head and its recogniser.

Each picture gets its tags (the tag head's, at the chosen thresholds, best score first) and its character
(the recogniser's answer, enrolled gallery included; an ``unknown`` picture gets none), in the order
kohya's tagger writes them. A caption file that is already there is skipped, appended to (tags it lacks,
no duplicates) or overwritten, as ``existing`` says; every write is atomic. Pictures that cannot be read
are listed and the rest are captioned. Every score goes to one JSON file beside the captions.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..atomic import atomic_write
from ..config.tag import TagConfig
from ..data.captions import caption_text, normalise_tag, read_caption, read_undesired, written_tag
from ..data.images import picture_files
from ..errors import AnimesionError
from ..models.checkpoint import load_checkpoint
from ..paths import resolve_path, shown_path
from ..prediction.files import InferenceResult, predict_files
from ..prediction.open_set import UNKNOWN
from ..prediction.predictor import Predictor
from ..runs import find_checkpoint
from .gallery import enrol


@dataclass
class CaptionRun:
    """What captioning a folder did: caption files ``written`` (new or overwritten), ``appended``, ``skipped``
    (already there, ``existing=skip``) and ``unchanged`` (appending found nothing new); the ``failures``
    (file, reason), how often each tag was written (``frequencies``) and the ``scores_path``."""

    folder: Path
    written: list[Path] = field(default_factory=list)
    appended: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "reason"]))
    frequencies: Counter = field(default_factory=Counter)
    scores_path: Path | None = None

    def shown(self, count: int = 10) -> pd.DataFrame:
        """The first ``count`` caption files written or appended to, with their text (a notebook's table)."""
        files = (self.written + self.appended)[:count]
        return pd.DataFrame({"caption file": [shown_path(f, self.folder) for f in files],
                             "caption": [f.read_text(encoding="utf-8").strip() for f in files]})

    def describe(self) -> str:
        """What was done, in one line."""
        return (f"{len(self.written)} caption(s) written, {len(self.appended)} appended to, {len(self.skipped)} "
                f"skipped (already there; existing=append or overwrite changes them), {len(self.unchanged)} "
                f"unchanged, {len(self.failures)} unreadable picture(s); in {self.folder}")


def ordered_tags(general: list[str], character: str | None, config: TagConfig,
                 undesired: frozenset[str]) -> list[str]:
    """One picture's caption tags in kohya's order: the ``always_first_tags`` it has, then the character
    before or after the general tags (``character_tags_first``); undesired tags left out and the general
    tags capped at ``max_tags``."""
    general = [t for t in general if normalise_tag(t) not in undesired]
    if config.max_tags:
        general = general[: config.max_tags]
    characters = [character] if character and normalise_tag(character) not in undesired else []
    tags = characters + general if config.character_tags_first else general + characters
    first = [normalise_tag(t) for t in config.always_first_tags.split(",") if t.strip()]
    leading = [t for name in first for t in tags if normalise_tag(t) == name]
    return leading + [t for t in tags if t not in leading]


def write_caption(path: Path, tags: list[str], config: TagConfig, run: CaptionRun) -> None:
    """Write (or skip, or append to) the caption file ``path`` as ``config.on_existing`` says, atomically."""
    text = caption_text(tags, config.remove_underscore, config.escape_brackets)
    if path.exists() and config.on_existing == "skip":
        run.skipped.append(path)
        return
    if path.exists() and config.on_existing == "append":
        old = path.read_text(encoding="utf-8", errors="replace")
        have = set(read_caption(old))
        new = [t for t in tags if normalise_tag(t) not in have]
        if not new:
            run.unchanged.append(path)
            return
        head = old.rstrip().rstrip(",").rstrip()
        text = (head + ", " if head else "") + caption_text(new, config.remove_underscore, config.escape_brackets)
        run.appended.append(path)
        tags = new
    else:
        run.written.append(path)
    atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    run.frequencies.update(written_tag(t, config.remove_underscore, config.escape_brackets) for t in tags)


def caption_folder(config: TagConfig, progress: bool = True) -> CaptionRun:
    """Caption every picture of ``config.train_data_dir`` (see the module doc)."""
    ckpt = load_checkpoint(find_checkpoint(config.checkpoint_path, config.results_dir))
    predictor = Predictor.from_checkpoint(ckpt)
    require_tag_head(predictor)
    folder = resolve_path(config.train_data_dir)
    files = picture_files(folder, config.recursive)
    gallery = enrol(predictor, config.gallery_path, config.batch_size, progress).gallery \
        if config.gallery_path else None
    overrides = {"general": config.general_threshold} if config.general_threshold is not None else None
    result = predict_files(predictor, files, config.batch_size, gallery=gallery, tags=True,
                           tag_rule=config.thresh, tag_overrides=overrides, progress=progress)
    return write_captions(result, predictor, folder, config)


def require_tag_head(predictor: Predictor) -> None:
    """Stop with one sentence when the predictor's checkpoint has no tag head (captions need its scores)."""
    if not predictor.has_tag_head:
        raise AnimesionError("Captions need a checkpoint with a tag head; train one with tag_head=True "
                             "(python -m animesion.train … --tag_head).")


def write_captions(result: InferenceResult, predictor: Predictor, folder: Path, config: TagConfig) -> CaptionRun:
    """The caption files of the pictures of ``result`` (tagged with ``predictor``'s tag head), and every score
    in ``config.scores_file`` under ``folder``."""
    run = CaptionRun(folder, failures=result.failures)
    undesired = read_undesired(config.undesired_tags)
    scores = {}
    table = result.table
    for n, row in enumerate(table.itertuples(index=False)):
        file = Path(row.file)
        named = row.top1 != UNKNOWN
        confident = config.character_threshold is None or row.confidence >= config.character_threshold
        character = row.top1 if named and confident else None
        tags = ordered_tags(list(row.tags), character, config, undesired)
        write_caption(file.with_suffix(config.caption_extension), tags, config, run)
        scores[shown_path(file, folder)] = {
            "character": row.top1, "confidence": round(float(row.confidence), 4),
            "tags": {t: round(float(v), 4) for t, v in zip(predictor.tag_set.names, result.tag_scores[n].tolist())}}
    if config.scores_file:
        run.scores_path = folder / config.scores_file
        atomic_write(run.scores_path, lambda tmp: tmp.write_text(json.dumps(scores, ensure_ascii=False, indent=0)))
    return run


__all__ = ["CaptionRun", "caption_folder", "ordered_tags", "require_tag_head", "write_caption",
           "write_captions"]
