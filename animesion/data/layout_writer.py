"""Write label files in the DAF:re layout; shared by the synthetic generator and ``02_make_dataset``."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from .records import Record
from .vocab import Vocabulary

TAGS_HEADER = ("id", "dir", "class_id", "tags_cat0", "tags_cat3", "tags_cat4")


def write_daf_labels(
    labels_dir: Path,
    splits: Mapping[str, Sequence[Record]],
    class_names: Sequence[str],
    vocab: Vocabulary | None = None,
    copyright_tag: str = "original",
) -> None:
    """Write ``classid_classname.csv``, ``{split}.csv``, ``{split}_tags.csv`` and ``vocab.json``.

    ``{split}.csv`` rows are ``class_id,dir`` without a header; the tag CSVs have the DAF:re header and
    Python-list strings in their tag cells, so the original tools can read them too.
    """
    labels_dir.mkdir(parents=True, exist_ok=True)
    with open(labels_dir / "classid_classname.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(enumerate(class_names))
    # Tag files for every split or for none, so a tagged dataset loads with tags on every split.
    tagged = any(r.tags for records in splits.values() for r in records)
    for split, records in splits.items():
        with open(labels_dir / f"{split}.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows((r.class_id, r.path) for r in records)
        if tagged:
            with open(labels_dir / f"{split}_tags.csv", "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(TAGS_HEADER)
                for i, r in enumerate(records):
                    character = [class_names[r.class_id]]
                    copyright_tags = list(r.copyright) or [copyright_tag]
                    writer.writerow((i, r.path, r.class_id, repr(list(r.tags)), repr(copyright_tags), repr(character)))
    if vocab is not None:
        vocab.to_json(labels_dir / "vocab.json")
