"""The tags a multi-label tag head predicts: names, Danbooru categories, and multi-hot targets.

Unlike :class:`~.vocab.Vocabulary` (the token ids a vision+tags model reads and fills, with special tokens),
a ``TagSet`` has one output per tag and nothing else, as the WD taggers' heads do. It is built from the
train split's tags (those seen at least ``min_count`` times, most frequent first) and travels in the
checkpoint's header with the thresholds calibrated for it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

GENERAL = "general"  # Danbooru's category 0, what DAF:re's tags_cat0 and caption files hold
CATEGORIES = (GENERAL, "copyright", "character")  # Danbooru categories 0, 3 and 4, in DAF:re's column order


@dataclass
class TagSet:
    """``names[i]`` is the tag of output ``i`` of the head, ``categories[i]`` its category, ``counts[i]`` the
    train pictures that have it."""

    names: list[str]
    categories: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.categories = self.categories or [GENERAL] * len(self.names)
        self.counts = self.counts or [0] * len(self.names)
        self.index = {name: i for i, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def build(cls, tag_lists: Iterable[Iterable[str]], min_count: int) -> TagSet:
        """The tags seen in at least ``min_count`` of the pictures' tag lists, most frequent first."""
        counts = Counter(tag for tags in tag_lists for tag in set(tags))
        kept = sorted(((t, n) for t, n in counts.items() if n >= min_count), key=lambda tn: (-tn[1], tn[0]))
        return cls([t for t, _ in kept], [GENERAL] * len(kept), [n for _, n in kept])

    def targets(self, tags: Sequence[str]) -> Tensor:
        """The multi-hot target [len(self)] of a picture's tags (tags outside the set are ignored)."""
        out = torch.zeros(len(self))
        out[[self.index[t] for t in tags if t in self.index]] = 1.0
        return out

    def to_meta(self) -> dict[str, list]:
        return {"names": self.names, "categories": self.categories, "counts": self.counts}

    @classmethod
    def from_meta(cls, meta: dict[str, list]) -> TagSet:
        return cls(list(meta["names"]), list(meta["categories"]), list(meta["counts"]))


__all__ = ["CATEGORIES", "GENERAL", "TagSet"]
