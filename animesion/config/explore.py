"""Parameters of ``01_data_exploration``: the original ``data_exploration.py`` flags."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.layouts import LAYOUTS, SPLITS
from ..strict import Strict, param


@dataclass
class ExploreConfig(Strict):
    """Statistics, image grids, an animation of a split and tag statistics of a dataset."""

    dataset_name: str = param("synthetic", "which dataset to explore", LAYOUTS.names)
    dataset_path: str = param("data/synthetic", "dataset root (relative paths start at the project root)")
    results_dir: str = param("outputs/data_exploration", "figures, tables and animation go to <here>/<dataset_name>/")
    split: str = param("test", "split to visualize (and the only one counted with stats_partial)", SPLITS)
    batch_size: int = param(64, "images in the grid, and in each frame of the animation")
    thumbnail_size: int = param(128, "side of each image in the grid and the animation, in pixels")
    display_images: bool = param(True, "show a grid of a random batch (and the animation); False skips to the stats")
    labels: bool = param(True, "write each image's character name under it, in the grid and the animation")
    data_vis_full: bool = param(False, "write the whole split as an animated GIF, one batch per frame")
    fps: float = param(1.0, "frames per second of the animation")
    stats_partial: bool = param(False, "statistics of `split` only, instead of the whole dataset")
    tags_csv: str = param("", "a CSV of tags to study instead of the dataset's (a tags_cat0 or tags column)")
    top_tags: int = param(30, "how many of the most frequent tags to plot")
    browser_images: int = param(16, "images the class browser shows per character")
    seed: int = param(0, "seed of the random batch")

    def validate(self) -> None:
        for key in ("batch_size", "thumbnail_size", "top_tags", "browser_images", "fps"):
            if getattr(self, key) <= 0:
                self.fail(f"{key} must be positive, got {getattr(self, key)}.")
