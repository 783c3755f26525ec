"""Deterministic, stratified train/val/test splits."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TypeVar

T = TypeVar("T")


def split_sizes(n: int, val_percent: float, test_percent: float) -> tuple[int, int, int]:
    """(train, val, test) sizes for a class of ``n`` items, rounding half up.

    A class of 3 or more items gets at least one val and one test item, and always keeps one for train.
    """
    n_val, n_test = int(n * val_percent + 0.5), int(n * test_percent + 0.5)
    if n >= 3:
        n_val, n_test = max(n_val, 1 if val_percent > 0 else 0), max(n_test, 1 if test_percent > 0 else 0)
    while n_val + n_test >= n and (n_val or n_test):  # leave at least one item for train
        if n_val >= n_test:
            n_val -= 1
        else:
            n_test -= 1
    return n - n_val - n_test, n_val, n_test


def stratified_split(by_class: Mapping[str, Sequence[T]], val_percent: float, test_percent: float,
                     seed: int = 0) -> dict[str, dict[str, list[T]]]:
    """Split every class on its own: ``{class: {"train": [...], "val": [...], "test": [...]}}``.

    Each class is shuffled with a generator seeded by ``seed`` and the class name, so the split of one
    class does not change when others are added or removed; give the items in a stable order.
    """
    result = {}
    for name, items in by_class.items():
        items = list(items)
        random.Random(f"{seed}-{name}").shuffle(items)
        n_train, n_val, _ = split_sizes(len(items), val_percent, test_percent)
        result[name] = {"train": items[:n_train], "val": items[n_train : n_train + n_val],
                        "test": items[n_train + n_val :]}
    return result
