"""Numbers about a dataset: images per class, the largest and smallest classes, tag frequencies."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from ..errors import DataError
from .readers import TAG_COLUMN, parse_tags_cell
from .records import Record

TAG_COLUMNS = (TAG_COLUMN, "tags")  # the DAF:re column, or a plain one


def class_counts(records: Iterable[Record], class_names: Sequence[str]) -> pd.DataFrame:
    """Images per class, largest first: columns ``class_id``, ``class_name``, ``images`` (every class, even empty)."""
    counts = Counter(r.class_id for r in records)
    table = pd.DataFrame({"class_id": range(len(class_names)), "class_name": list(class_names),
                          "images": [counts.get(i, 0) for i in range(len(class_names))]})
    return table.sort_values(["images", "class_id"], ascending=[False, True], ignore_index=True)


def summary_stats(counts: pd.DataFrame) -> pd.Series:
    """Number of images and classes, and the mean, median and std of images per class.

    As in the original, the per-class numbers are over the classes that have images; classes listed in
    ``classid_classname.csv`` without any image are counted apart.
    """
    present = counts.loc[counts["images"] > 0, "images"]
    return pd.Series({
        "images": int(counts["images"].sum()),
        "classes": len(counts),
        "classes with images": len(present),
        "mean images per class": float(present.mean()) if len(present) else 0.0,
        "median images per class": float(present.median()) if len(present) else 0.0,
        "std images per class": float(present.std()) if len(present) > 1 else 0.0,
    }, dtype=object)  # object keeps the counts integers next to the float statistics


def largest_classes(counts: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` classes with the most images."""
    return counts.head(n).reset_index(drop=True)


def smallest_classes(counts: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` classes with the fewest images (smallest first)."""
    return counts.iloc[::-1].head(n).reset_index(drop=True)


def tag_counts(tag_lists: Iterable[Sequence[str]]) -> pd.Series:
    """How many images carry each tag, most frequent first."""
    counts = Counter(tag for tags in tag_lists for tag in set(tags))
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return pd.Series(dict(ordered), name="images", dtype="int64")


def tags_per_image(tag_lists: Iterable[Sequence[str]]) -> pd.Series:
    """The number of tags of each image."""
    return pd.Series([len(tags) for tags in tag_lists], name="tags", dtype="int64")


def read_tags_csv(path: str | Path) -> list[tuple[str, ...]]:
    """Tag lists from any CSV with a header and a ``tags_cat0`` or ``tags`` column (Python-list strings or
    comma-separated tags), such as DAF:re's ``*_tags.csv``."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Tags file '{path}' does not exist.")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        column = next((c for c in TAG_COLUMNS if c in (reader.fieldnames or [])), None)
        if column is None:
            raise DataError(f"{path}: expected a header with a {' or '.join(TAG_COLUMNS)} column, "
                            f"got {reader.fieldnames}.")
        return [parse_tags_cell(row[column] or "", f"{path}, line {n}") for n, row in enumerate(reader, 2)]
