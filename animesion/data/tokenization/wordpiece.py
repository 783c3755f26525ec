"""WordPiece tokenization of tags: BERT's tokenizer loaded through ``transformers`` (as the original loaded
``wp`` with ``BertTokenizer.from_pretrained``) when it is on this machine, otherwise a vocabulary trained on
the dataset's own tags with the ``tokenizers`` library and cached next to it.

Either way the pieces are encoded by a ``tokenizers`` WordPiece model; a checkpoint stores its pieces
(piece → id) and whether it lowercases, and is rebuilt from them without BERT's files.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import BertWordPieceTokenizer, Tokenizer

from ...errors import DataError
from ..vocab import SPECIAL_TOKENS
from .base import TagTokenizer

BERT_REPOS = ("google-bert/bert-base-uncased", "bert-base-uncased")  # the Hub's name, and the name before it


def _auto_tokenizer(name: str) -> Any:
    """``AutoTokenizer``'s tokenizer of ``name`` from disk, or None when there is none with a vocabulary."""
    from transformers import AutoTokenizer  # seconds to import: only when a wp tokenizer is built

    try:
        tok = AutoTokenizer.from_pretrained(name, local_files_only=True)
    except (OSError, ValueError):  # not on disk, or no config saying which tokenizer it is
        return None
    # transformers 5 builds a tokenizer of the special tokens alone from a config without a vocabulary
    has_pieces = len(tok.get_vocab()) > len(tok.all_special_tokens)
    return tok if has_pieces and hasattr(tok, "backend_tokenizer") else None


def load_bert(bert: str | Path | None, max_len: int, known_tags: Sequence[str]) -> WordPieceTagTokenizer | None:
    """BERT's WordPiece tokenizer through ``transformers.AutoTokenizer``, for ``known_tags``.

    ``bert``: a local folder (``vocab.txt`` and ``tokenizer_config.json``, or ``tokenizer.json``) or a model
    name in the Hugging Face cache; None looks for bert-base-uncased in the cache and gives None when it is
    not there. Only reads the disk (``local_files_only``): never downloads, never waits for the network.
    """
    for name in [str(bert)] if bert else BERT_REPOS:
        tok = _auto_tokenizer(name)
        if tok is not None:
            case = "uncased" if tok.do_lower_case else "cased"
            return WordPieceTagTokenizer(tok.backend_tokenizer, max_len, known_tags,
                                         f"BERT WordPiece tokenizer {name} (transformers, {case})", tok.do_lower_case)
    if bert:
        raise DataError(f"No BERT tokenizer at '{bert}': give a folder with bert-base-uncased's vocab.txt and "
                        "tokenizer_config.json, a model name in the Hugging Face cache, or nothing to train a "
                        "WordPiece vocabulary on the tags.")
    return None


def _tag_text(tags: Sequence[str]) -> str:
    # Tags are joined by spaces, as one sentence; decoding finds the known tags back in the pieces.
    return " ".join(tags)


def train_wordpiece_vocab(tag_lists: Iterable[Sequence[str]], folder: Path, vocab_size: int = 8000,
                          min_count: int = 2) -> Path:
    """Train a lowercase WordPiece vocabulary on tag lists; cached in ``folder`` under a name that hashes
    the corpus and settings, so a changed dataset gets a new vocabulary. Returns the ``vocab.txt`` path."""
    texts = [_tag_text(tags) for tags in tag_lists]
    digest = hashlib.sha1("\n".join([str(vocab_size), str(min_count), *texts]).encode()).hexdigest()[:10]
    path = folder / f"wordpiece-{digest}-vocab.txt"
    if path.is_file():
        return path
    tokenizer = BertWordPieceTokenizer(lowercase=True)
    tokenizer.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=min_count,
                                  special_tokens=list(SPECIAL_TOKENS), show_progress=False)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            written = tokenizer.save_model(tmp, "wordpiece")[0]
            os.replace(written, path)
    except OSError as err:
        raise DataError(f"Could not cache the WordPiece vocabulary in '{folder}' ({err.strerror}).") from None
    return path


class WordPieceTagTokenizer(TagTokenizer):
    """Sub-word tokens of the tags joined by spaces; ``decode`` returns the ``known_tags`` found in the pieces.

    ``wordpiece``: the WordPiece model that splits text into pieces (BERT's from ``transformers``, or one
    of :meth:`from_pieces`); ``lowercase``: whether it lowercases the text first. ``known_tags`` (most
    frequent first) are matched greedily, longest first, on token ids; pieces that belong to no known tag
    are ignored.
    """

    name = "wp"

    def __init__(self, wordpiece: Tokenizer | BertWordPieceTokenizer, max_len: int, known_tags: Sequence[str],
                 source: str = "", lowercase: bool = True) -> None:
        self._wp = wordpiece
        self.lowercase = lowercase
        ids = {token: self._wp.token_to_id(token) for token in ("[PAD]", "[CLS]", "[SEP]", "[UNK]")}
        missing = [token for token, i in ids.items() if i is None]
        if missing:
            raise DataError(f"WordPiece vocabulary '{source}' lacks the token(s) {', '.join(missing)}.")
        super().__init__(max_len=max_len, source=source, pad_id=ids["[PAD]"], cls_id=ids["[CLS]"],
                         sep_id=ids["[SEP]"], unk_id=ids["[UNK]"])
        self._tag_pieces: dict[tuple[int, ...], str] = {}
        for tag in known_tags:
            self._tag_pieces.setdefault(tuple(self.tokens([tag])), tag)
        self._longest = max((len(p) for p in self._tag_pieces), default=1)

    @classmethod
    def from_pieces(cls, pieces: Path | dict[str, int], max_len: int, known_tags: Sequence[str], source: str = "",
                    lowercase: bool = True) -> WordPieceTagTokenizer:
        """The tokenizer of a ``vocab.txt`` (one piece a line) or of the pieces a checkpoint saved (piece → id)."""
        return cls(BertWordPieceTokenizer(pieces if isinstance(pieces, dict) else str(pieces), lowercase=lowercase),
                   max_len, known_tags, source, lowercase)

    @property
    def vocab_size(self) -> int:
        return self._wp.get_vocab_size()

    @property
    def pieces(self) -> dict[str, int]:
        """The WordPiece vocabulary, piece → id (what a checkpoint stores to rebuild this tokenizer)."""
        return self._wp.get_vocab()

    def state(self) -> dict[str, Any]:
        return {**super().state(), "pieces": self.pieces, "lowercase": self.lowercase}

    def tokens(self, tags: Sequence[str]) -> list[int]:
        return self._wp.encode(_tag_text(tags), add_special_tokens=False).ids

    def decode_text(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text of the pieces, e.g. ``"blonde hair blue eyes"``."""
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        return self._wp.decode([i for i in ids if i not in self.special_ids])

    def decode(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        pieces = [i for i in ids if i not in self.special_ids]
        found: list[str] = []
        start = 0
        while start < len(pieces):
            for length in range(min(self._longest, len(pieces) - start), 0, -1):
                tag = self._tag_pieces.get(tuple(pieces[start : start + length]))
                if tag is not None:
                    found.append(tag)
                    start += length
                    break
            else:
                start += 1
        return list(dict.fromkeys(found))
