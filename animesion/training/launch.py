"""Starting a run in this process or in several, and reading a finished run back from its folder."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import pandas as pd

from ..config.train import TrainConfig
from ..errors import CheckpointError, ConfigError
from .run_dir import RunDir
from .trainer import Callback, TrainResult, train


def launch(config: TrainConfig, callbacks: Sequence[Callback] = (), progress: bool = True) -> TrainResult:
    """Train here (``num_processes=1``), or in ``num_processes`` processes via Accelerate's notebook launcher.

    The launched processes cannot draw into this notebook, so the callbacks get the finished history
    once, read from the run folder. Under ``accelerate launch`` (or torchrun) the processes already
    exist, and each one simply trains.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if config.num_processes == 1 or world > 1:
        if config.num_processes not in (1, world):
            raise ConfigError(f"TrainConfig: num_processes={config.num_processes}, but {world} processes were "
                              "launched; leave num_processes at 1 when the launcher sets the count.")
        return train(config, callbacks, progress)
    from accelerate import notebook_launcher

    notebook_launcher(train, args=(config, (), progress), num_processes=config.num_processes,
                      mixed_precision=config.mixed_precision)
    result = load_result(config)
    for callback in callbacks:
        callback.on_epoch_end(result.history)
    return result


def load_result(config: TrainConfig) -> TrainResult:
    """The :class:`TrainResult` of the finished run of ``config``, from its history.csv and metrics.json."""
    run = RunDir(config)
    if not run.metrics_path.is_file():
        raise CheckpointError(f"'{run.path}' holds no finished run (no metrics.json); train it first.")
    figures = {path.stem: path for path in sorted((run.path / "figures").glob("*.png"))}
    return TrainResult(run.path, pd.read_csv(run.history_path), json.loads(run.metrics_path.read_text()),
                       run.checkpoint("best"), run.checkpoint("last"), figures)
