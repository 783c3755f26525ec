"""``02_make_dataset`` then ``01_data_exploration`` run headless under papermill with tiny parameters."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from animesion.data.demo_tree import make_demo_tree
from animesion.workbook import run_notebook


def _errors(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [o["evalue"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.notebook
def test_make_dataset_then_explore_it(tmp_path):
    tree = make_demo_tree(tmp_path / "tree", no_classes=3, images_per_class=8, picture_size=32)
    made = tmp_path / "made"
    out = run_notebook("02_make_dataset", {"input_path": str(tree), "dataset_path": str(made),
                                           "min_images_per_class": 5, "max_display": 4},
                       output=tmp_path / "02.ipynb", progress=False)
    assert _errors(out) == []
    with open(made / "report" / "skipped_files.csv") as f:
        skipped = {row["path"] for row in csv.DictReader(f)}
    assert {Path(p).name for p in skipped} == {"README.md", "broken.jpg", "cut_off.png", "notes.txt"}
    manifest = json.loads((made / "make_dataset.json").read_text())
    assert manifest["characters"] == 3 and sum(manifest["images"].values()) == 24
    assert len(manifest["dropped_classes"]) == 1  # the demo's 4-image character
    assert (made / "report" / "sample_grid.png").is_file() and (made / "labels" / "vocab.json").is_file()

    results = tmp_path / "exploration"
    out = run_notebook("01_data_exploration", {"dataset_name": "danbooruFaces", "dataset_path": str(made),
                                               "results_dir": str(results), "batch_size": 8, "thumbnail_size": 32,
                                               "data_vis_full": True, "browser_images": 4},
                       output=tmp_path / "01.ipynb", progress=False)
    assert _errors(out) == []
    folder = results / "danbooruFaces"
    stats = json.loads((folder / "stats.json").read_text())
    assert stats["images"] == sum(manifest["images"].values()) and stats["classes"] == 3
    expected = {"class_histogram.png", "batch_test.png", "top_tags.png", "tags_per_image.png", "largest_class.png",
                "test_labelsTrue.gif", "class_counts.csv", "tag_counts.csv", "stats.json"}
    assert expected <= {p.name for p in folder.iterdir()}
