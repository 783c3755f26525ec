"""Vision+tags through the notebooks: 03_train learns tags and characters, 05_inference runs in every mode."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from animesion.config.inference import MODES
from animesion.config.train import TrainConfig
from animesion.data.stats import read_tags_csv
from animesion.training import train
from animesion.workbook import run_notebook


@pytest.mark.notebook
@pytest.mark.parametrize("mode", MODES)
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


# 03_train on the tiny synthetic set (6 characters, 48 training images); the vision-only twin drops the tags.
VILT = {"model_name": "Ti_16", "image_size": 32, "batch_size": 16, "no_epochs": 10, "learning_rate": 0.05,
        "warmup_steps": 2, "log_freq": 3, "multimodal": True, "mask_schedule": "full", "run_name": "vilt"}


@pytest.mark.slow
@pytest.mark.notebook
def test_tags_are_learned_and_recognition_is_no_worse(tiny_dataset, tmp_path):
    results = tmp_path / "outputs"
    paths = {"dataset_path": str(tiny_dataset), "results_dir": str(results)}
    run_notebook("03_train", {**VILT, **paths}, output=tmp_path / "03.ipynb", progress=False)
    metrics = json.loads((results / "vilt" / "metrics.json").read_text())
    assert metrics["test_tag_micro_f1"] >= 0.7
    assert (results / "vilt" / "figures" / "mask_schedule.png").is_file()
    vision = {k: v for k, v in VILT.items() if k not in ("multimodal", "mask_schedule")} | {"run_name": "vision"}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the notebook's kernel, which runs alone; the result is seeded either way
    try:
        twin = train(TrainConfig(**vision, **paths), progress=False)
    finally:
        torch.set_num_threads(threads)
    assert metrics["test_top1"] >= twin.metrics["test_top1"]
