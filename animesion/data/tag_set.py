"""The tags a multi-label tag head predicts: names, Danbooru categories, and multi-hot targets.

Unlike :class:`~.vocab.Vocabulary` (the token ids a vision+tags model reads and fills, with special tokens),
a ``TagSet`` has one output per tag and nothing else, as the WD taggers' heads do. It is built from the
train split's general and copyright tags (those on at least ``min_count`` pictures, most frequent first) and
travels in the checkpoint's header with the thresholds calibrated for it. Characters are not among its tags:
the recogniser names them (and enrolled ones too), so a caption's character tag comes from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .records import Record

GENERAL = "general"  # Danbooru's category 0, what DAF:re's tags_cat0 and caption files hold
COPYRIGHT = "copyright"  # category 3 (tags_cat3); the character (category 4) is named by the recogniser


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
    def build(cls, records: Iterable[Record], min_count: int) -> TagSet:
        """The general tags, then the copyright tags, seen on at least ``min_count`` of the pictures, each
        category most frequent first. A copyright tag on every picture (a dataset of one series, or 02's
        ``original``) tells nothing and is left out; a name already taken by a general tag is not repeated."""
        records = list(records)
        names, categories, counts = [], [], []
        for category, tags_of in ((GENERAL, lambda r: r.tags), (COPYRIGHT, lambda r: r.copyright)):
            found = Counter(tag for r in records for tag in set(tags_of(r)))
            everywhere = category == COPYRIGHT and len(found) == 1 and next(iter(found.values())) == len(records)
            kept = sorted(((t, n) for t, n in found.items() if n >= min_count and t not in names),
                          key=lambda tn: (-tn[1], tn[0]))
            if not everywhere:
                names += [t for t, _ in kept]
                categories += [category] * len(kept)
                counts += [n for _, n in kept]
        return cls(names, categories, counts)

    def targets(self, record: Record) -> Tensor:
        """The multi-hot target [len(self)] of a picture's tags (tags outside the set are ignored)."""
        out = torch.zeros(len(self))
        out[[self.index[t] for t in (*record.tags, *record.copyright) if t in self.index]] = 1.0
        return out

    def to_meta(self) -> dict[str, list]:
        return {"names": self.names, "categories": self.categories, "counts": self.counts}

    @classmethod
    def from_meta(cls, meta: dict[str, list]) -> TagSet:
        return cls(list(meta["names"]), list(meta["categories"]), list(meta["counts"]))


__all__ = ["COPYRIGHT", "GENERAL", "TagSet"]
