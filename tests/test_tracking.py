"""Tracking: history/metrics always; TensorBoard and W&B optional, offline, and never imported when off."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from importlib.machinery import ModuleSpec

import accelerate.tracking
import pandas as pd
import pytest
from accelerate.utils import LoggerType

from animesion.errors import ConfigError
from animesion.training import train
from conftest import tiny_train_config

TRACKER_PACKAGES = ("wandb", "tensorboard", "tensorboardX", "torch.utils.tensorboard")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def is_tracker_module(name: str) -> bool:
    return any(name == pkg or name.startswith(pkg + ".") for pkg in TRACKER_PACKAGES)


def test_a_run_without_tracker_imports_neither_wandb_nor_tensorboard(tiny_dataset, tmp_path, monkeypatch):
    # Forget any tracker module an earlier test loaded: whatever this run imports shows up again.
    for name in [m for m in sys.modules if is_tracker_module(m)]:
        monkeypatch.delitem(sys.modules, name)
    result = train(tiny_train_config(tiny_dataset, tmp_path, no_epochs=1), progress=False)
    assert [m for m in sys.modules if is_tracker_module(m)] == []
    assert len(pd.read_csv(result.run_dir / "history.csv")) == 1  # always written
    assert json.loads((result.run_dir / "metrics.json").read_text())["test_samples"] == 12
    assert not (result.run_dir / "tracking").exists()


def test_tensorboard_writes_local_event_files(tiny_dataset, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    result = train(tiny_train_config(tiny_dataset, tmp_path, no_epochs=2, tracker="tensorboard"), progress=False)
    events = EventAccumulator(str(result.run_dir / "tracking" / "animesion"))
    events.Reload()
    val_top1 = [(e.step, e.value) for e in events.Scalars("val_top1")]
    assert val_top1 == [(epoch, pytest.approx(top1)) for epoch, top1 in
                        zip(result.history["epoch"], result.history["val_top1"])]


def test_wandb_runs_offline_in_the_run_folder(tiny_dataset, tmp_path, monkeypatch):
    """A stand-in ``wandb`` records what Accelerate asks of it: an offline run that needs no account."""
    calls: dict = {"log": []}
    run = types.SimpleNamespace(log=lambda values, step=None: calls["log"].append(step),
                                finish=lambda: calls.setdefault("finished", True))
    fake = types.ModuleType("wandb")
    fake.__spec__ = ModuleSpec("wandb", None)
    fake.init = lambda **kwargs: calls.setdefault("init", kwargs) and run
    fake.config = types.SimpleNamespace(update=lambda values, allow_val_change: calls.setdefault("config", values))
    monkeypatch.setitem(sys.modules, "wandb", fake)
    monkeypatch.setattr(accelerate.tracking, "_available_trackers", [LoggerType.WANDB])

    config = tiny_train_config(tiny_dataset, tmp_path, no_epochs=2, tracker="wandb")
    result = train(config, progress=False)
    init = calls["init"]
    assert init["mode"] == "offline"
    assert init["dir"] == str(result.run_dir / "tracking")
    assert init["id"] == result.run_dir.name and init["resume"] == "allow"
    assert calls["config"]["learning_rate"] == config.learning_rate and calls["config"]["scale"] == str(config.scale)
    assert calls["log"] == [1, 2]
    assert calls["finished"]


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed here")
def test_choosing_wandb_without_the_package_is_one_sentence(tiny_dataset, tmp_path):
    with pytest.raises(ConfigError, match=r"^tracker='wandb' needs the wandb package, which is not installed; .*\.$"):
        train(tiny_train_config(tiny_dataset, tmp_path, tracker="wandb"), progress=False)
