"""Shared fixtures: a tiny synthetic dataset and a tiny trained checkpoint, made once per session.

Tests never touch the network: ANIMESION_OFFLINE=1 makes every download path fail fast with its
one-sentence message.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["ANIMESION_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from animesion.config.train import TrainConfig
from animesion.data.synthetic import SyntheticConfig, generate_synthetic

TINY_SYNTHETIC = SyntheticConfig(no_classes=6, images_per_class=12, picture_size=48, seed=3)


def tiny_train_config(dataset_path: Path, results_dir: Path, **overrides) -> TrainConfig:
    """A TrainConfig that trains in a couple of seconds on the tiny synthetic set.

    Loading stays in the main process (``no_cpu_workers=0``): starting worker processes would cost tiny
    runs more than it saves.
    """
    values = dict(dataset_path=str(dataset_path), results_dir=str(results_dir), image_size=32, batch_size=16,
                  no_epochs=2, learning_rate=0.003, warmup_steps=2, log_freq=2, no_cpu_workers=0)
    values.update(overrides)
    return TrainConfig(**values)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A 6-character, 12-images-each synthetic dataset in the DAF:re faces layout (with tags)."""
    root = tmp_path_factory.mktemp("data") / "synthetic"
    return generate_synthetic(root, TINY_SYNTHETIC, progress=False)


@pytest.fixture(scope="session")
def tiny_run(tiny_dataset, tmp_path_factory):
    """A finished 2-epoch ``shallow`` run on the tiny dataset (its TrainResult)."""
    from animesion.training import train

    results = tmp_path_factory.mktemp("outputs")
    return train(tiny_train_config(tiny_dataset, results, run_name="tiny_shallow"), progress=False)


@pytest.fixture(scope="session")
def tiny_vilt_run(tiny_dataset, tmp_path_factory):
    """A finished 2-epoch vision+tags ``Ti_16`` run with ``full`` tag masking on the tiny dataset (config, result)."""
    import torch

    from animesion.training import train

    config = tiny_train_config(tiny_dataset, tmp_path_factory.mktemp("outputs"), model_name="Ti_16", multimodal=True,
                               mask_schedule="full", run_name="tiny_vilt")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two cores shared by busy processes: do not oversubscribe them
    try:
        return config, train(config, progress=False)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_vit_run(tiny_dataset, tmp_path_factory):
    """A 1-epoch ``Ti_16`` run at image size 32 on the tiny dataset (one step: batch 64), for attention maps."""
    from animesion.training import train

    results = tmp_path_factory.mktemp("vit_outputs")
    config = tiny_train_config(tiny_dataset, results, model_name="Ti_16", no_epochs=1,
                               batch_size=64, run_name="tiny_vit")
    return train(config, progress=False)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module that trains: two cores shared by busy processes are not oversubscribed."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class Interrupt(Exception):
    """Raised by :class:`StopAfter` to end a run early, leaving an unfinished run folder."""


class StopAfter:
    """A training callback that interrupts the run after ``epoch`` epochs, once their state is on disk."""

    def __init__(self, config: TrainConfig, epoch: int) -> None:
        from animesion.training.run_dir import RunDir

        self.run, self.epoch = RunDir(config), epoch

    def on_epoch_end(self, history) -> None:
        if len(history) == self.epoch:
            wait_for(self.run.state(self.epoch))
            raise Interrupt(f"stopped after epoch {self.epoch}")


def wait_for(path: Path, seconds: float = 60) -> None:
    """Wait until ``path`` exists (checkpoints are written in the background while training goes on)."""
    import time

    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} was not written within {seconds} s"
        time.sleep(0.05)
