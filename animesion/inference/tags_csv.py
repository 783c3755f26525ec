"""``gen_tags``: the predicted tags of a list of images, written as a dataset's ``*_tags.csv``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..atomic import atomic_write
from ..data.readers import TAG_COLUMN, read_rows
from ..errors import DataError
from ..prediction.files import TAGS, InferenceResult


def read_image_list(path: Path) -> pd.DataFrame:
    """Columns ``class_id`` and ``dir`` of a list of images: a split's ``class_id,dir`` rows without a header
    (``labels/test.csv``), or any CSV with a header that has a ``dir`` column (e.g. a ``*_tags.csv``)."""
    if not path.is_file():
        raise DataError(f"test_csv '{path}' does not exist; give a CSV listing images (class_id,dir rows).")
    rows = read_rows(path)
    if rows and "dir" in rows[0]:
        header, rows = rows[0], rows[1:]
        col = {name: header.index(name) for name in ("dir", "class_id") if name in header}
        table = pd.DataFrame({"class_id": [r[col["class_id"]] if "class_id" in col else "" for r in rows],
                              "dir": [r[col["dir"]] for r in rows]})
    elif all(len(r) == 2 for r in rows):
        table = pd.DataFrame(rows, columns=["class_id", "dir"])
    else:
        raise DataError(f"{path}: expected 'class_id,dir' rows or a header with a 'dir' column.")
    if table.empty:
        raise DataError(f"test_csv '{path}' lists no images.")
    return table.drop_duplicates("dir")


def write_tags_csv(result: InferenceResult, folder: Path, listed: pd.DataFrame | None, out: Path) -> Path:
    """Write ``out`` with the columns of a dataset's ``*_tags.csv``: ``dir`` (relative to ``folder``),
    ``class_id`` (from ``listed``; empty without a list), ``tags_cat0`` (the predicted tags as a Python-list
    string) and ``character`` (the top-1 prediction). ``01_data_exploration`` reads it with ``tags_csv``."""
    dirs = [str(Path(f).relative_to(folder)) for f in result.table["file"]]
    class_ids = listed.set_index("dir").loc[dirs, "class_id"].tolist() if listed is not None else [""] * len(dirs)
    table = pd.DataFrame({"dir": dirs, "class_id": class_ids, TAG_COLUMN: result.table[TAGS].tolist(),
                          "character": result.table["top1"].tolist()})
    return atomic_write(out, lambda tmp: table.to_csv(tmp, index=False))


__all__ = ["read_image_list", "write_tags_csv"]
