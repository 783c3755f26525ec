"""Tag vocabulary: tag ↔ id, with the special tokens of the original at ids 0–4. Saved as JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SPECIAL_TOKENS = ("[PAD]", "[UNUSED]", "[CLS]", "[SEP]", "[UNK]")
PAD_ID, MASK_ID, CLS_ID, SEP_ID, UNK_ID = range(5)  # the original masks with [UNUSED] (id 1)
VOCAB_MIN_COUNT = 2  # as the original: a tag seen once in train is not in the vocabulary


@dataclass
class Vocabulary:
    """Whole-tag vocabulary; ``idx2word[i]`` is the tag with id ``i``."""

    idx2word: list[str] = field(default_factory=lambda: list(SPECIAL_TOKENS))

    def __post_init__(self) -> None:
        if tuple(self.idx2word[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            raise ValueError(f"a vocabulary must start with the special tokens {SPECIAL_TOKENS}")
        self.word2idx = {w: i for i, w in enumerate(self.idx2word)}

    def __len__(self) -> int:
        return len(self.idx2word)

    def __contains__(self, word: object) -> bool:
        return word in self.word2idx

    def add(self, word: str) -> int:
        """Add ``word`` if new; return its id."""
        if word not in self.word2idx:
            self.word2idx[word] = len(self.idx2word)
            self.idx2word.append(word)
        return self.word2idx[word]

    def id(self, word: str) -> int:
        """Id of ``word``, or the [UNK] id."""
        return self.word2idx.get(word, UNK_ID)

    @property
    def tags(self) -> list[str]:
        """The real tags, without the special tokens."""
        return self.idx2word[len(SPECIAL_TOKENS) :]

    @classmethod
    def build(cls, tag_lists: Iterable[Iterable[str]], min_count: int = VOCAB_MIN_COUNT) -> Vocabulary:
        """Vocabulary of the tags seen at least ``min_count`` times, most frequent first."""
        counts = Counter(tag for tags in tag_lists for tag in tags)
        vocab = cls()
        for tag, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if n >= min_count:
                vocab.add(tag)
        return vocab

    def to_json(self, path: str | Path) -> None:
        """Write the vocabulary as ``{"idx2word": [...]}``."""
        Path(path).write_text(json.dumps({"idx2word": self.idx2word}, ensure_ascii=False, indent=0))

    @classmethod
    def from_json(cls, path: str | Path) -> Vocabulary:
        """Read a vocabulary written by :meth:`to_json`."""
        return cls(list(json.loads(Path(path).read_text())["idx2word"]))
