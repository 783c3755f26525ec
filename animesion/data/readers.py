"""Reading the label files of a dataset layout into :class:`Record` lists, with clear errors."""

from __future__ import annotations

import ast
import csv
import logging
from pathlib import Path

from ..errors import DataError
from .layouts import Layout
from .records import Record

log = logging.getLogger(__name__)

TAG_COLUMN = "tags_cat0"  # general tags
COPYRIGHT_COLUMN = "tags_cat3"  # copyright tags (the series); tags_cat4, the character, is the class


def labels_dir(root: Path, layout: Layout) -> Path:
    """The folder holding ``{split}.csv`` and ``classid_classname.csv``."""
    return root / layout.labels_dir if layout.labels_dir else root


def read_rows(path: Path) -> list[list[str]]:
    """The non-empty rows of a CSV file (one sentence naming the file when it is missing)."""
    if not path.is_file():
        raise DataError(f"Label file '{path}' does not exist.")
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f) if row]


def read_class_names(root: Path, layout: Layout) -> list[str]:
    """Class names indexed by class id, from ``classid_classname.csv`` (rows ``class_id,class_name``)."""
    path = labels_dir(root, layout) / "classid_classname.csv"
    names: dict[int, str] = {}
    for n, row in enumerate(read_rows(path), 1):
        try:
            names[int(row[0])] = row[1]
        except (ValueError, IndexError):
            raise DataError(f"{path}, line {n}: expected 'class_id,class_name', got {','.join(row)!r}.") from None
    if sorted(names) != list(range(len(names))):
        raise DataError(f"{path}: class ids must run from 0 to {len(names) - 1} without gaps.")
    return [names[i] for i in range(len(names))]


def has_tags(root: Path, layout: Layout) -> bool:
    """True when every split of the layout has its ``{split}_tags.csv``."""
    folder = labels_dir(root, layout)
    return all((folder / f"{split}_tags.csv").is_file() for split in layout.splits)


def split_tags(text: str) -> tuple[str, ...]:
    """Comma-separated tags, stripped, without blanks and duplicates, in their order."""
    return tuple(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


def parse_tags_cell(cell: str, where: str) -> tuple[str, ...]:
    """Tags of one CSV cell: a Python-list string (``"['smile', 'blue eyes']"``, as DAF:re writes them)
    or plain comma-separated text (``"smile, blue eyes"``). Duplicates and blanks are dropped."""
    text = cell.strip()
    if not text.startswith("["):
        return split_tags(text)
    try:
        tags = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise DataError(f"{where}: the tags cell {cell[:60]!r} is not a Python-list string.") from None
    if not isinstance(tags, list):
        raise DataError(f"{where}: the tags cell must hold a list, got {type(tags).__name__}.")
    return tuple(dict.fromkeys(str(t).strip() for t in tags if str(t).strip()))


def read_split(root: Path, layout: Layout, split: str, num_classes: int, with_tags: bool = False) -> list[Record]:
    """Records of one split; ``with_tags`` reads ``{split}_tags.csv`` (with its header) instead."""
    folder = labels_dir(root, layout)
    if with_tags:
        path = folder / f"{split}_tags.csv"
        rows = read_rows(path)
        header, body = rows[0] if rows else [], rows[1:]
        needed = ("dir", "class_id", TAG_COLUMN)
        if any(col not in header for col in needed):
            raise DataError(f"{path}: expected a header with the columns {', '.join(needed)}, got {header}.")
        idx = {col: header.index(col) for col in (*needed, COPYRIGHT_COLUMN) if col in header}
        parsed = []
        for n, r in enumerate(body, 2):
            if len(r) <= max(idx.values()):
                raise DataError(f"{path}, line {n}: expected {len(header)} columns, got {len(r)}.")
            copyright_tags = parse_tags_cell(r[idx[COPYRIGHT_COLUMN]], f"{path}, line {n}") \
                if COPYRIGHT_COLUMN in idx else ()
            parsed.append((r[idx["class_id"]], r[idx["dir"]], parse_tags_cell(r[idx[TAG_COLUMN]], f"{path}, line {n}"),
                           copyright_tags))
    else:
        path = folder / f"{split}.csv"
        parsed = []
        for n, row in enumerate(read_rows(path), 1):
            if len(row) != 2:
                raise DataError(f"{path}, line {n}: expected 2 columns 'class_id,dir', got {len(row)}.")
            parsed.append((row[0], row[1], (), ()))
    records = []
    for n, (class_id, rel, tags, copyright_tags) in enumerate(parsed, 1):
        try:
            cid = int(class_id)
        except ValueError:
            raise DataError(f"{path}, row {n}: class_id {class_id!r} is not a whole number.") from None
        if not 0 <= cid < num_classes:
            raise DataError(f"{path}, row {n}: class_id {cid} is not in classid_classname.csv (0–{num_classes - 1}).")
        records.append(Record(rel, cid, tags, copyright_tags))
    if not records:
        raise DataError(f"{path}: the {split} split is empty.")
    return records


def drop_missing(records: list[Record], image_root: Path, split: str) -> tuple[list[Record], list[str]]:
    """Keep the records whose image file exists; return the kept ones and a report line per missing file."""
    kept, missing = [], []
    for r in records:
        (kept if (image_root / r.path).is_file() else missing).append(r)
    problems = [f"{image_root / r.path}: file not found ({split} split)." for r in missing]
    if missing:
        log.warning("%d image(s) of the %s split are missing, e.g. %s", len(missing), split, problems[0])
    if not kept:
        raise DataError(f"None of the {len(records)} images of the {split} split exist under '{image_root}'.")
    return kept, problems
