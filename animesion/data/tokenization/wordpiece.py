"""WordPiece tokenization of tags with the ``tokenizers`` library: BERT's uncased vocabulary when it is on
this machine, otherwise a vocabulary trained on the dataset's own tags and cached next to it."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import torch
from tokenizers import BertWordPieceTokenizer

from ...errors import DataError
from ..vocab import SPECIAL_TOKENS
from .base import TagTokenizer

BERT_REPOS = ("google-bert/bert-base-uncased", "bert-base-uncased")
BERT_VOCAB_FILE = "vocab.txt"


def find_bert_vocab(path: str | Path | None = None) -> Path | None:
    """BERT's uncased ``vocab.txt``: ``path`` (a file, or a folder holding it) when given, else the copy in the
    Hugging Face cache, else None. Only looks on disk: never downloads."""
    if path:
        candidate = Path(path) / BERT_VOCAB_FILE if Path(path).is_dir() else Path(path)
        if not candidate.is_file():
            raise DataError(f"BERT vocabulary '{candidate}' does not exist; give the path of bert-base-uncased's "
                            f"{BERT_VOCAB_FILE}, or leave it empty to train a WordPiece vocabulary on the tags.")
        return candidate
    from huggingface_hub import try_to_load_from_cache

    for repo in BERT_REPOS:
        cached = try_to_load_from_cache(repo, BERT_VOCAB_FILE)
        if isinstance(cached, str) and Path(cached).is_file():
            return Path(cached)
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

    ``known_tags`` (most frequent first) are matched greedily, longest first, on token ids; pieces that
    belong to no known tag are ignored.
    """

    name = "wp"

    def __init__(self, vocab_file: Path | dict[str, int], max_len: int, known_tags: Sequence[str],
                 source: str = "") -> None:
        # a dict is a vocabulary read back from a checkpoint (piece → id)
        self._wp = BertWordPieceTokenizer(vocab_file if isinstance(vocab_file, dict) else str(vocab_file),
                                          lowercase=True)
        ids = {token: self._wp.token_to_id(token) for token in ("[PAD]", "[CLS]", "[SEP]", "[UNK]")}
        missing = [token for token, i in ids.items() if i is None]
        if missing:
            raise DataError(f"WordPiece vocabulary '{source or vocab_file}' lacks the token(s) {', '.join(missing)}.")
        super().__init__(max_len=max_len, source=source, pad_id=ids["[PAD]"], cls_id=ids["[CLS]"],
                         sep_id=ids["[SEP]"], unk_id=ids["[UNK]"])
        self.vocab_file = None if isinstance(vocab_file, dict) else Path(vocab_file)
        self._tag_pieces: dict[tuple[int, ...], str] = {}
        for tag in known_tags:
            self._tag_pieces.setdefault(tuple(self.tokens([tag])), tag)
        self._longest = max((len(p) for p in self._tag_pieces), default=1)

    @property
    def vocab_size(self) -> int:
        return self._wp.get_vocab_size()

    @property
    def pieces(self) -> dict[str, int]:
        """The WordPiece vocabulary, piece → id (what a checkpoint stores to rebuild this tokenizer)."""
        return self._wp.get_vocab()

    def state(self) -> dict[str, Any]:
        return {**super().state(), "pieces": self.pieces}

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
