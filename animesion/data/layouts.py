"""On-disk layouts of the supported datasets, registered by ``dataset_name``, and the splits every dataset has."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry

SPLITS = ("train", "val", "test")  # every dataset is read as these three (see ``Layout.splits``)


@dataclass(frozen=True)
class Layout:
    """Where a dataset keeps its images and label files, relative to ``dataset_path``.

    ``image_dir``: folder the ``dir`` column of the split CSVs is relative to.
    ``labels_dir``: folder of ``{split}.csv``, ``classid_classname.csv`` and the tag files ('' = the root).
    ``splits``: the splits on disk; a layout without ``val`` validates on a held-out part of train.
    """

    name: str
    image_dir: str
    labels_dir: str
    splits: tuple[str, ...]
    description: str
    synthetic: bool = False


LAYOUTS: Registry[Layout] = Registry("dataset_name")

for _layout in (
    Layout("synthetic", "faces", "labels", ("train", "val", "test"),
           "embedded synthetic characters, drawn by the package (DAF:re faces layout)", synthetic=True),
    Layout("danbooruFaces", "faces", "labels", ("train", "val", "test"), "DAF:re faces (3263 characters)"),
    Layout("danbooruFull", "fullMin256", "labels", ("train", "val", "test"), "DAF:re full images (3263 characters)"),
    Layout("moeImouto", "data", "", ("train", "test"), "moeImouto faces (173 characters)"),
    Layout("cartoonFace", "data", "", ("train", "test"), "iCartoonFace"),
):
    LAYOUTS.register(_layout.name)(_layout)
