"""Accelerate: two CPU processes (gloo) train the same model as one process with the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import animesion
from animesion.errors import ConfigError
from animesion.training import train
from conftest import tiny_train_config

# Tiny ViT: no BatchNorm (whose batch statistics would differ per process) and no dropout, so one
# process and two processes with half the batch each compute the same gradients up to rounding. The
# modern recipe's augmentation is seeded per sample, so both see the same pictures; the weight average
# is updated alike in every process.
VIT = dict(model_name="Ti_16", image_size=32, batch_size=16, no_epochs=2, learning_rate=0.003, warmup_steps=2,
           model_ema=True, tag_head=True)  # the tag head's scores and targets are gathered like the rest
COMPARED = ["lr", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def subprocess_env() -> dict[str, str]:
    """The environment of this test run, with this checkout's ``animesion`` importable."""
    root = str(Path(animesion.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks CPU processes talking over gloo")
def test_two_cpu_processes_match_one_process(tiny_dataset, tmp_path):
    params = tmp_path / "vit.yaml"
    params.write_text(yaml.safe_dump({**VIT, "dataset_path": str(tiny_dataset)}))
    # num_processes=2 goes through Accelerate's notebook launcher (what 03_train uses); without CUDA the
    # processes train on the CPU and talk over gloo, exactly as under ``accelerate launch --multi_gpu``.
    out = subprocess.run([sys.executable, "-m", "animesion.train", "-f", str(params), "--num_processes", "2",
                          "--results_dir", str(tmp_path / "two")],
                         env=subprocess_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("run folder:") == 1  # one report, from the launching process

    one = train(tiny_train_config(tiny_dataset, tmp_path / "one", **VIT), progress=False)
    two_dir = tmp_path / "two" / one.run_dir.name  # the process count is not part of the run name
    two = pd.read_csv(two_dir / "history.csv")
    metrics = pd.read_json(two_dir / "metrics.json", typ="series")
    assert metrics["num_processes"] == 2 and one.metrics["num_processes"] == 1
    assert metrics["test_samples"] == one.metrics["test_samples"] == 12  # gathered, padding not counted twice
    np.testing.assert_allclose(two[COMPARED].to_numpy(), one.history[COMPARED].to_numpy(), rtol=1e-4, atol=1e-4)
    for key in ("test_top1", "test_top5", "test_loss", "best_val_top1", "test_tag_map"):
        assert metrics[key] == pytest.approx(one.metrics[key], rel=1e-4, abs=1e-4), key
    log = (two_dir / "train.log").read_text()
    assert log.count("epoch 1: train loss") == 1  # only the main process logs


def test_gradient_accumulation_and_bf16_run_through_accelerate(tiny_dataset, tmp_path):
    config = tiny_train_config(tiny_dataset, tmp_path, gradient_accumulation_steps=2, mixed_precision="bf16")
    result = train(config, progress=False)
    assert result.metrics["mixed_precision"] == "bf16"
    assert result.metrics["optimizer_steps"] == 2 * 2  # 3 batches per epoch → 2 optimizer steps (the last one short)
    assert np.isfinite(result.history["train_loss"]).all()


def test_fp16_on_the_cpu_is_refused_in_one_sentence(tiny_dataset, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("fp16 is fine on a GPU")
    with pytest.raises(ConfigError, match=r"^TrainConfig: mixed_precision='fp16' needs a GPU; .*\.$"):
        train(tiny_train_config(tiny_dataset, tmp_path, mixed_precision="fp16"), progress=False)
