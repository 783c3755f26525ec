"""``mode`` of ``05_inference``: what to predict for new images, one function per mode in a registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..config.inference import InferenceConfig
from ..data.readers import read_rows
from ..errors import DataError
from ..evaluation.tag_results import TAGS_COLUMN
from ..paths import resolve_path
from ..registry import Registry
from ..training.atomic import atomic_write
from ..training.checkpoint import Checkpoint
from .folder import TAGS, InferenceResult, list_files, predict_files, predict_folder

Mode = Callable[[Checkpoint, InferenceConfig, Path, bool], InferenceResult]  # (ckpt, config, folder, progress)
INFERENCE_MODES: Registry[Mode] = Registry("mode")


@INFERENCE_MODES.register("recognition_vision")
def recognize(ckpt: Checkpoint, config: InferenceConfig, folder: Path, progress: bool = True) -> InferenceResult:
    """Top-k characters of every file in ``folder`` (a vision+tags model reads fully masked tags)."""
    return predict_folder(ckpt, folder, config.batch_size, config.top_k, config.max_display, progress)


@INFERENCE_MODES.register("recognition_tagging")
def recognize_and_tag(ckpt: Checkpoint, config: InferenceConfig, folder: Path,
                      progress: bool = True) -> InferenceResult:
    """Top-k characters and the predicted tag set of every file in ``folder``."""
    return predict_folder(ckpt, folder, config.batch_size, config.top_k, config.max_display, progress, tags=True)


@INFERENCE_MODES.register("gen_tags")
def generate_tags(ckpt: Checkpoint, config: InferenceConfig, folder: Path, progress: bool = True) -> InferenceResult:
    """Tag every image listed in ``test_csv`` (paths relative to ``folder``), or every file in ``folder``,
    and write ``<results_dir>/inference/<name>_tags.csv`` (``<name>``: the CSV's or the folder's name).

    The file has the columns of a dataset's ``*_tags.csv``: ``dir``, ``class_id`` (from the list;
    empty without one), ``tags_cat0`` (the predicted tags as a Python-list string), plus ``character``
    (the top-1 prediction). ``01_data_exploration`` reads it with ``tags_csv``.
    """
    listed = read_image_list(resolve_path(config.test_csv)) if config.test_csv else None
    if listed is not None:
        files, name = [folder / d for d in listed["dir"]], Path(config.test_csv).stem
    else:
        files, name = list_files(folder), folder.name
    result = predict_files(ckpt, files, config.batch_size, config.top_k, config.max_display, progress, tags=True)
    dirs = [str(Path(f).relative_to(folder)) for f in result.table["file"]]
    class_ids = listed.set_index("dir").loc[dirs, "class_id"].tolist() if listed is not None else [""] * len(dirs)
    table = pd.DataFrame({"dir": dirs, "class_id": class_ids, TAGS_COLUMN: result.table[TAGS].tolist(),
                          "character": result.table["top1"].tolist()})
    out = resolve_path(config.results_dir) / "inference" / f"{name}_tags.csv"
    result.tags_csv = atomic_write(out, lambda tmp: table.to_csv(tmp, index=False))
    return result


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


def run_inference(ckpt: Checkpoint, config: InferenceConfig, folder: Path, progress: bool = True) -> InferenceResult:
    """Run ``config.mode`` on ``folder`` (and ``config.test_csv`` for ``gen_tags``)."""
    return INFERENCE_MODES.get(config.mode)(ckpt, config, folder, progress)


__all__ = ["INFERENCE_MODES", "generate_tags", "read_image_list", "recognize", "recognize_and_tag", "run_inference"]
