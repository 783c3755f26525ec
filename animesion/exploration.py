"""``01_data_exploration``: load a dataset, count it, and draw it (the original ``data_exploration.py``)."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .config.explore import ExploreConfig
from .data.animation import write_split_animation
from .data.dataset import DatasetSplits, load_dataset
from .data.images import load_thumbnails
from .data.layouts import SPLITS
from .data.records import Record
from .data.stats import (
    class_counts,
    largest_classes,
    read_tags_csv,
    smallest_classes,
    summary_stats,
    tag_counts,
    tags_per_image,
)
from .errors import DataError
from .paths import resolve_path
from .plots import image_grid, save_figure

log = logging.getLogger(__name__)


@dataclass
class Exploration:
    """A dataset and its numbers: ``records`` are the images the statistics cover."""

    config: ExploreConfig
    data: DatasetSplits
    records: list[Record]
    counts: pd.DataFrame  # class_id, class_name, images; largest first
    summary: pd.Series
    tag_lists: list[tuple[str, ...]] | None  # None when there are no tags
    tag_source: str
    out_dir: Path
    problems: list[str] = field(default_factory=list)  # files named in the label files but missing

    @property
    def largest(self) -> pd.DataFrame:
        """The 10 classes with the most images."""
        return largest_classes(self.counts)

    @property
    def smallest(self) -> pd.DataFrame:
        """The 10 classes with the fewest images."""
        return smallest_classes(self.counts)

    @cached_property
    def tag_counts(self) -> pd.Series | None:
        """Images per tag, most frequent first (None without tags)."""
        return tag_counts(self.tag_lists) if self.tag_lists is not None else None

    @cached_property
    def tags_per_image(self) -> pd.Series | None:
        """Number of tags of each image (None without tags)."""
        return tags_per_image(self.tag_lists) if self.tag_lists is not None else None


def explore(config: ExploreConfig) -> Exploration:
    """Load the dataset of ``config`` (with its tags when it has them) and count the images per class."""
    data = load_dataset(config.dataset_name, config.dataset_path, with_tags=None)
    if config.stats_partial:
        records = list(data.splits[config.split])
    else:
        records = [r for split in ("train", "val", "test") for r in data.splits[split]]
    counts = class_counts(records, data.class_names)
    summary = summary_stats(counts)
    summary.name = f"{config.dataset_name} ({config.split if config.stats_partial else 'all splits'})"
    if config.tags_csv:
        tags_path = resolve_path(config.tags_csv)
        tag_lists, tag_source = read_tags_csv(tags_path), str(tags_path)
    elif data.tagged:
        tag_lists, tag_source = [r.tags for r in records], "the dataset's tags_cat0 column"
    else:
        tag_lists, tag_source = None, "no tags"
    out_dir = resolve_path(config.results_dir) / config.dataset_name
    return Exploration(config, data, records, counts, summary, tag_lists, tag_source, out_dir, list(data.problems))


def batch_grid(exploration: Exploration) -> Figure:
    """A grid of a random batch of ``split`` (seeded), labelled with the character names when ``labels``."""
    cfg = exploration.config
    records = exploration.data.splits[cfg.split]
    batch = random.Random(cfg.seed).sample(records, min(cfg.batch_size, len(records)))
    data = exploration.data
    images, kept, problems = load_thumbnails([data.image_root / r.path for r in batch], cfg.thumbnail_size)
    for problem in problems:
        log.warning("skipped: %s", problem)
    names = [data.class_names[batch[i].class_id] for i in kept]
    fig = image_grid(images, names if cfg.labels else None, ncols=8, size=1.5, fontsize=6)
    fig.suptitle(f"{cfg.dataset_name} · {cfg.split}: {len(images)} random images", y=1.02)
    return fig


def class_gallery(data: DatasetSplits, class_name: str, max_images: int = 16, size: int = 128) -> Figure:
    """The first ``max_images`` images of one character (over all splits), titled with their file names."""
    if class_name not in data.class_names:
        raise DataError(f"'{class_name}' is not a class of the {data.name} dataset.")
    class_id = data.class_names.index(class_name)
    records = [r for split in SPLITS for r in data.splits.get(split, []) if r.class_id == class_id]
    shown = records[:max_images]
    images, kept, _ = load_thumbnails([data.image_root / r.path for r in shown], size)
    fig = image_grid(images, [Path(shown[i].path).name for i in kept], ncols=8, size=1.5, fontsize=6)
    fig.suptitle(f"{class_name}: {len(records)} images", y=1.02)
    return fig


def write_animation(exploration: Exploration, progress: bool = True) -> Path:
    """``data_vis_full``: every image of ``split`` in order, ``batch_size`` per frame, as an animated GIF."""
    cfg = exploration.config
    path = exploration.out_dir / f"{cfg.split}_labels{cfg.labels}.gif"
    path, problems = write_split_animation(exploration.data.splits[cfg.split], exploration.data.image_root,
                                           exploration.data.class_names, path, cfg.batch_size, cfg.thumbnail_size,
                                           cfg.labels, cfg.fps, progress=progress)
    for problem in problems:
        log.warning("left out of the animation: %s", problem)
    return path


def save_exploration(exploration: Exploration, figures: dict[str, Figure | None]) -> Path:
    """Write the class counts, the statistics and the figures (PNG, by name) to ``out_dir``."""
    out = exploration.out_dir
    out.mkdir(parents=True, exist_ok=True)
    exploration.counts.to_csv(out / "class_counts.csv", index=False)
    stats = {"dataset_name": exploration.config.dataset_name, "covers": str(exploration.summary.name),
             **exploration.summary.to_dict(),
             "largest": exploration.largest["class_name"].tolist(),
             "smallest": exploration.smallest["class_name"].tolist()}
    if exploration.tag_counts is not None:
        stats["distinct tags"] = len(exploration.tag_counts)
        exploration.tag_counts.rename_axis("tag").to_csv(out / "tag_counts.csv")
    (out / "stats.json").write_text(json.dumps(stats, indent=1, default=float))
    for name, fig in figures.items():
        if fig is not None:
            save_figure(fig, out, f"{name}.png")
    return out
