"""Starting a run in this process or in several, and reading a finished run back from its folder."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..config.train import TrainConfig
from ..errors import ConfigError
from .run_dir import RunDir, TrainResult
from .trainer import Callback, train


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
    return RunDir(config).result()
