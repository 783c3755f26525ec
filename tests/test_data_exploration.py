"""Dataset statistics, tag statistics, the split animation and the class browser of ``01_data_exploration``."""

from __future__ import annotations

import csv

import pytest
from PIL import Image

from animesion.config.explore import ExploreConfig
from animesion.data.animation import write_split_animation
from animesion.data.records import Record
from animesion.data.stats import (
    class_counts,
    largest_classes,
    read_tags_csv,
    smallest_classes,
    summary_stats,
    tag_counts,
    tags_per_image,
)
from animesion.errors import DataError
from animesion.exploration import batch_grid, class_gallery, explore, save_exploration
from animesion.widgets import class_browser

NAMES = ["a", "b", "c", "d"]


def _records(sizes: dict[int, int]) -> list[Record]:
    return [Record(f"{cid}/{i}.png", cid) for cid, n in sizes.items() for i in range(n)]


def test_class_statistics_count_the_classes_with_images():
    counts = class_counts(_records({0: 5, 1: 1, 2: 3}), NAMES)
    assert counts["class_name"].tolist() == ["a", "c", "b", "d"]
    stats = summary_stats(counts)
    assert stats["images"] == 9 and stats["classes"] == 4 and stats["classes with images"] == 3
    assert stats["mean images per class"] == 3.0 and stats["median images per class"] == 3.0
    assert stats["std images per class"] == pytest.approx(2.0)
    assert largest_classes(counts, 2)["class_name"].tolist() == ["a", "c"]
    assert smallest_classes(counts, 2)["class_name"].tolist() == ["d", "b"]


def test_tag_statistics_and_tags_csv(tmp_path):
    lists = [("1girl", "smile"), ("1girl",), ("1girl", "smile", "hat", "hat")]
    assert tag_counts(lists).to_dict() == {"1girl": 3, "smile": 2, "hat": 1}
    assert tags_per_image(lists).tolist() == [2, 1, 4]
    path = tmp_path / "predicted_tags.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([["dir", "tags"], ["x.png", "1girl, smile"], ["y.png", "['hat']"]])
    assert read_tags_csv(path) == [("1girl", "smile"), ("hat",)]
    (tmp_path / "bad.csv").write_text("dir,labels\nx.png,smile\n")
    with pytest.raises(DataError, match="tags_cat0 or tags column"):
        read_tags_csv(tmp_path / "bad.csv")


def test_animation_has_one_frame_per_batch_and_skips_bad_files(tmp_path):
    for i in range(7):
        Image.new("RGB", (20, 20), (30 * i, 0, 0)).save(tmp_path / f"{i}.png")
    (tmp_path / "7.png").write_text("broken")
    records = [Record(f"{i}.png", i % 2) for i in range(8)]
    path, problems = write_split_animation(records, tmp_path, ["x", "y"], tmp_path / "out" / "split.gif",
                                           batch_size=3, tile=16, labels=True, fps=2, progress=False)
    gif = Image.open(path)
    assert gif.n_frames == 3 and gif.info["duration"] == 500 and gif.info["loop"] == 0
    sizes = set()
    for k in range(gif.n_frames):
        gif.seek(k)
        sizes.add(gif.size)
    assert len(sizes) == 1  # the short last batch is padded to the same frame size
    assert len(problems) == 1 and "7.png" in problems[0]


def test_explore_stats_partial_browser_and_saving(tiny_dataset, tmp_path):
    config = ExploreConfig(dataset_path=str(tiny_dataset), results_dir=str(tmp_path), batch_size=8,
                           thumbnail_size=32, stats_partial=True, split="val")
    exploration = explore(config)
    assert exploration.summary["images"] == len(exploration.data.splits["val"])
    assert exploration.tag_lists is not None and exploration.tag_counts.index[0] == "1girl"
    whole = explore(config.replace(stats_partial=False))
    assert whole.summary["images"] == sum(len(r) for r in whole.data.splits.values())
    grid = batch_grid(exploration)
    assert len([ax for ax in grid.axes if ax.images]) == 8
    name = exploration.largest["class_name"][0]
    browser = class_browser(exploration.data, max_images=4, initial=name)
    picker, picture = browser.children
    assert picker.value == name and picture.value[:4] == b"\x89PNG"
    first = picture.value
    picker.value = exploration.smallest["class_name"][0]  # picking another character redraws the gallery
    assert picture.value[:4] == b"\x89PNG" and picture.value != first
    with pytest.raises(DataError, match="not a class"):
        class_gallery(exploration.data, "nobody")
    out = save_exploration(exploration, {"batch": grid, "missing": None})
    assert {p.name for p in out.iterdir()} == {"batch.png", "class_counts.csv", "stats.json", "tag_counts.csv"}
