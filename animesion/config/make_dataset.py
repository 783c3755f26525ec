"""Parameters of ``02_make_dataset``: turn a folder of character images into a dataset."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.synthetic.spec import SyntheticConfig
from ..strict import Strict, param

SOURCES = ("folder", "synthetic")
DEMO_INPUT = "data/character_folders"
SYNTHETIC = SyntheticConfig.defaults()  # how the synthetic set is drawn unless told otherwise


@dataclass
class MakeDatasetConfig(Strict):
    """Make a dataset in the DAF:re faces layout from a folder tree, or (re)draw the synthetic set."""

    source: str = param("folder", "make it from a folder tree, or draw the synthetic set", SOURCES)
    input_path: str = param(DEMO_INPUT, "one subfolder of images per character (the default is drawn when missing)")
    tags_csv: str = param("", "CSV of tags (columns path and tags); empty reads a caption .txt beside each image")
    undesired_tags: str = param("", "tags or trigger words to leave out of the captions: comma-separated, or a file")
    dataset_path: str = param("data/my_dataset", "where the dataset is written (DAF:re faces layout)")
    val_percent: float = param(0.15, "share of each character's images in the val split")
    test_percent: float = param(0.15, "share of each character's images in the test split")
    min_images_per_class: int = param(10, "characters with fewer readable images are left out")
    min_tag_count: int = param(2, "tags seen fewer times in train stay out of the vocabulary")
    resize_short_side: int = param(0, "shrink images so the short side is this many pixels (0 copies them as they are)")
    no_cpu_workers: int = param(0, "threads that check and write images (0 works in the main thread)")
    seed: int = param(0, "seed of the split, and of the synthetic drawing")
    no_classes: int = param(SYNTHETIC["no_classes"], "synthetic: number of characters")
    images_per_class: int = param(SYNTHETIC["images_per_class"], "synthetic: pictures of each character")
    picture_size: int = param(SYNTHETIC["picture_size"], "synthetic: side of the pictures in pixels")
    max_display: int = param(16, "characters shown in the sample grid")

    def validate(self) -> None:
        if not (0 <= self.val_percent < 1 and 0 <= self.test_percent < 1 and self.val_percent + self.test_percent < 1):
            self.fail("val_percent and test_percent must be in [0, 1) with a sum below 1.")
        for key in ("min_images_per_class", "min_tag_count", "max_display"):
            if getattr(self, key) < 1:
                self.fail(f"{key} must be at least 1, got {getattr(self, key)}.")
        for key in ("resize_short_side", "no_cpu_workers"):
            if getattr(self, key) < 0:
                self.fail(f"{key} must not be negative, got {getattr(self, key)}.")
