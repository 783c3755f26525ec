"""Resuming: a run killed with SIGKILL in the middle of an epoch and resumed ends like an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import animesion
from animesion.config.train import TrainConfig
from animesion.training import train
from animesion.training.resume import load_state
from animesion.training.run_dir import RunDir, run_name
from conftest import tiny_train_config

# Runs the real command line, but a log handler holds the run for good once epoch 2 has taken an
# optimizer step (model and optimizer now differ from every checkpoint on disk), so it can be killed.
HOLD_MID_EPOCH = """
import logging, sys, time
from pathlib import Path

class Hold(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("epoch 2 step 1/"):
            Path(sys.argv[1]).write_text("held")
            time.sleep(600)

logging.getLogger("animesion").addHandler(Hold())
from animesion.train import main
sys.exit(main(sys.argv[2:]))
"""
DETERMINISTIC = ["epoch", "lr", "train_loss", "train_top1", "val_loss", "val_top1", "val_top5"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def yaml_config(run_dir: Path) -> TrainConfig:
    """The config of a finished run, from its params.yaml."""
    return TrainConfig.from_yaml(run_dir / "params.yaml")


def cli_args(**values) -> list[str]:
    """``--key value`` pairs for ``python -m animesion.train``."""
    return [text for key, value in values.items() for text in (f"--{key}", str(value))]


def subprocess_env() -> dict[str, str]:
    """The environment of this test run, with this checkout's ``animesion`` importable."""
    root = str(Path(animesion.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tiny_dataset, tmp_path):
    # The modern recipe's random parts all run: seeded augmentation (crop, TrivialAugment, erasing), mixup and
    # cutmix (NumPy's stream), label smoothing, AdamW, and the weight average, which the state must carry.
    values = dict(dataset_path=tiny_dataset, results_dir=tmp_path / "killed", image_size=32, batch_size=16,
                  no_epochs=3, learning_rate=0.003, warmup_steps=2, log_freq=1, mixup=0.2, cutmix=1.0, model_ema=True,
                  tag_head=True)  # the tag head's targets are mixed with the pictures, so they ride the same streams
    config = tiny_train_config(**values)
    held = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HOLD_MID_EPOCH, str(held), *cli_args(**values)],
                            env={**subprocess_env(), "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not held.exists():
        assert proc.poll() is None, f"training ended before epoch 2: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "training did not reach epoch 2 within 120 s"
        time.sleep(0.1)
    run = RunDir(config)
    while not run.state(1).exists():  # epoch 1's state is written in the background while epoch 2 trains
        assert time.monotonic() < deadline, "epoch 1's state was not written within 120 s"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    assert [p.name for p in run.states()] == ["epoch0001.pt"]
    assert set(load_state(run.state(1))["objects"]) == {"model", "model_ema", "optimizer", "lr_scheduler"}
    assert not run.metrics_path.exists()
    assert len(pd.read_csv(run.history_path)) == 1

    resumed = train(config.replace(resume=True), progress=False)
    reference = train(config.replace(results_dir=str(tmp_path / "reference")), progress=False)

    assert resumed.run_dir == run.path  # resume=True is not part of the run name
    assert run_name(config.replace(resume=True)) == run_name(config)
    assert resumed.metrics["resumed_from"] == str(run.state(1))
    history = pd.read_csv(run.history_path)  # the same file, continued
    assert history["epoch"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(history[DETERMINISTIC].to_numpy(), reference.history[DETERMINISTIC].to_numpy(),
                               rtol=1e-5, atol=1e-6)
    for key in ("test_top1", "test_top5", "test_loss", "best_val_top1", "best_val_loss", "test_tag_map"):
        assert resumed.metrics[key] == pytest.approx(reference.metrics[key], rel=1e-5, abs=1e-6), key
    assert resumed.metrics["optimizer_steps"] == reference.metrics["optimizer_steps"] == 9
    assert resumed.metrics["weights"] == "exponential moving average"
    assert run.states() == []  # a finished run keeps its weights, not its resumable states


def test_resume_of_a_finished_run_returns_it_without_training(tiny_run):
    config = yaml_config(tiny_run.run_dir)
    again = train(config.replace(resume=True), progress=False)
    assert again.metrics == tiny_run.metrics and again.run_dir == tiny_run.run_dir


def test_resume_without_a_checkpoint_starts_a_new_run(tiny_dataset, tmp_path):
    result = train(tiny_train_config(tiny_dataset, tmp_path, no_epochs=1, resume=True), progress=False)
    assert result.metrics["resumed_from"] is None
    assert result.metrics["epochs"] == 1
