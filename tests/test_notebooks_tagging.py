"""Vision+tags through the notebooks: 03_train learns tags and characters, 05_inference runs in every mode."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from animesion.config.inference import MODES
from animesion.data.stats import read_tags_csv
from animesion.workbook import run_notebook


@pytest.mark.notebook
@pytest.mark.parametrize("mode", [m for m in MODES.names() if not MODES.get(m).captions])  # captions: a tag head's
def test_inference_notebook_in_every_mode(tiny_vilt_run, tiny_dataset, tmp_path, mode):
    results = tmp_path / "outputs"
    params = {"checkpoint_path": str(tiny_vilt_run[1].best_checkpoint), "mode": mode, "results_dir": str(results),
              "test_path": str(tiny_dataset / "faces" / "0000"), "max_display": 4}
    if mode == "gen_tags":
        params |= {"test_csv": str(tiny_dataset / "labels" / "test.csv"), "test_path": str(tiny_dataset / "faces")}
    run_notebook("05_inference", params, output=tmp_path / "05.ipynb", progress=False)
    table = pd.read_csv(results / "inference" / "predictions.csv")
    assert ("tags" in table.columns) == (mode != "recognition_vision")
    if mode == "gen_tags":  # the test split's 12 images, tagged in a file 01_data_exploration reads
        assert len(table) == 12 and len(read_tags_csv(results / "inference" / "test_tags.csv")) == 12
    else:
        assert len(table) == 12 and (results / "inference" / "gallery.png").is_file()


# 03_train on the tiny synthetic set (6 characters, 48 training images, 7 tags each on average). The
# issue's bar (test micro-F1 >= 0.7, recognition no worse than vision only) is measured on the full
# synthetic set with parameters/train_vilt_synthetic.yaml, minutes of CPU: too slow for the suite.
VILT = {"model_name": "Ti_16", "image_size": 32, "batch_size": 16, "no_epochs": 4, "learning_rate": 0.003,
        "warmup_steps": 2, "log_freq": 3, "multimodal": True, "mask_schedule": "full", "run_name": "vilt",
        "no_cpu_workers": 0, "aa": None}  # crops and flips only, as quickstart_vilt.yaml: 4 epochs are few


@pytest.mark.notebook
def test_train_notebook_learns_tags_and_plots_the_schedule(tiny_dataset, tmp_path):
    results = tmp_path / "outputs"
    run_notebook("03_train", {**VILT, "dataset_path": str(tiny_dataset), "results_dir": str(results)},
                 output=tmp_path / "03.ipynb", progress=False)
    run = results / "vilt"
    metrics = json.loads((run / "metrics.json").read_text())
    history = pd.read_csv(run / "history.csv")
    assert {"val_tag_micro_f1", "val_tag_macro_f1"} <= set(history.columns) and len(history) == 4
    # predicting only "1girl" (a tag of every image) scores about 2/(1 + 7) = 0.25: the model beats it
    assert metrics["test_tag_micro_f1"] > 0.35 and 0 <= metrics["test_tag_macro_f1"] <= 1
    assert (run / "figures" / "mask_schedule.png").is_file()
    assert len(read_tags_csv(run / "test_tag_predictions.csv")) == 12


@pytest.mark.notebook
def test_tag_head_through_03_and_05_draws_tag_scores(tiny_dataset, tmp_path):
    """03 with ``tag_head`` draws the test pictures' tag scores; 05 tags with it and draws them too."""
    import nbformat

    results = tmp_path / "outputs"
    params = {"model_name": "shallow", "image_size": 32, "batch_size": 16, "no_epochs": 2, "log_freq": 3,
              "tag_head": True, "run_name": "tag_head", "no_cpu_workers": 0}
    run_notebook("03_train", {**params, "dataset_path": str(tiny_dataset), "results_dir": str(results)},
                 output=tmp_path / "03.ipynb", progress=False)
    assert "test_tag_map" in json.loads((results / "tag_head" / "metrics.json").read_text())
    run_notebook("05_inference", {"checkpoint_path": str(results / "tag_head" / "best.safetensors"),
                                  "mode": "recognition_tagging", "results_dir": str(results), "max_display": 2,
                                  "test_path": str(tiny_dataset / "faces" / "0000"), "tag_threshold": "mcut"},
                 output=tmp_path / "05.ipynb", progress=False)
    for name, drawing in (("03.ipynb", "checkpoint_tag_examples("), ("05.ipynb", "tag_scores_figure(")):
        cells = nbformat.read(tmp_path / name, as_version=4).cells
        drawn = [c for c in cells if c.cell_type == "code" and drawing in c.source and "import" not in c.source]
        # the drawing cell ran (figures are not kept under the tests' Agg backend), without an error
        assert len(drawn) == 1 and drawn[0].execution_count, name
        assert not any(o.get("output_type") == "error" for o in drawn[0].outputs), name
    figures = tmp_path / "figures"
    from animesion.inference.tag_view import checkpoint_tag_examples

    checkpoint_tag_examples(results / "tag_head" / "best.safetensors", count=1).savefig(figures.with_suffix(".png"))
    assert figures.with_suffix(".png").stat().st_size > 5000
    table = pd.read_csv(results / "inference" / "predictions.csv")
    assert table["tags"].map(lambda t: len(eval(t))).min() >= 1  # mcut gives every picture at least one tag
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for source in sorted((tiny_dataset / "faces" / "0000").glob("*.jpg"))[:3]:
        (pictures / source.name).write_bytes(source.read_bytes())
    run_notebook("05_inference", {"checkpoint_path": str(results / "tag_head" / "best.safetensors"),
                                  "mode": "captions", "results_dir": str(results), "test_path": str(pictures)},
                 output=tmp_path / "05_captions.ipynb", progress=False)
    captions = sorted(pictures.glob("*.txt"))
    assert len(captions) == 3 and all(c.read_text().strip() for c in captions)
    shown = [c for c in nbformat.read(tmp_path / "05_captions.ipynb", as_version=4).cells
             if c.cell_type == "code" and "run.captions.describe()" in c.source][0]
    assert "3 caption(s) written" in "".join(o.get("text", "") for o in shown.outputs)
