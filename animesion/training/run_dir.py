"""A self-describing run folder: params.yaml, history.csv, metrics.json, a log, checkpoints, figures."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import yaml

from ..config.train import TrainConfig
from ..errors import CheckpointError
from ..paths import resolve_path
from .atomic import atomic_write

# Parameters that do not change what is trained, so they do not change the run folder either.
NOT_IN_RUN_NAME = ("results_dir", "run_name", "log_freq", "no_cpu_workers")


def run_name(config: TrainConfig) -> str:
    """``config.run_name``, or ``<dataset>_<model>_is<size>_<hash>``: the same parameters give the same name."""
    if config.run_name:
        return config.run_name
    relevant = {k: v for k, v in config.to_dict().items() if k not in NOT_IN_RUN_NAME}
    digest = hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:8]
    return f"{config.dataset_name}_{config.model_name}_is{config.image_size}_{digest}"


class RunDir:
    """The folder ``results_dir/<run_name>/`` and the files in it."""

    def __init__(self, config: TrainConfig) -> None:
        self.name = run_name(config)
        self.path = resolve_path(config.results_dir) / self.name
        try:
            (self.path / "figures").mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise CheckpointError(f"Cannot create the run folder '{self.path}': {err.strerror or err}.") from None
        self.history_path = self.path / "history.csv"
        self.metrics_path = self.path / "metrics.json"
        self.log_path = self.path / "train.log"

    def checkpoint(self, tag: str) -> Path:
        """Path of the checkpoint called ``tag`` (best, last, epoch5, ...)."""
        return self.path / f"{tag}.safetensors"

    def figure(self, name: str) -> Path:
        """Path of a figure file."""
        return self.path / "figures" / name

    def write_params(self, config: TrainConfig) -> None:
        """Write ``params.yaml``: a parameters file that reproduces this run."""
        text = yaml.safe_dump(config.to_dict(), sort_keys=False)
        atomic_write(self.path / "params.yaml", lambda tmp: tmp.write_text(text))

    def append_history(self, row: dict[str, Any]) -> None:
        """Append one epoch's row to ``history.csv`` (header written with the first row)."""
        new = not self.history_path.is_file()
        with open(self.history_path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def reset_history(self) -> None:
        """Start a fresh ``history.csv`` (a new run, not a resumed one)."""
        self.history_path.unlink(missing_ok=True)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Write ``metrics.json`` atomically."""
        text = json.dumps(metrics, indent=2)
        atomic_write(self.metrics_path, lambda tmp: tmp.write_text(text))

    def file_logger(self) -> logging.Handler:
        """A handler that copies the package's log records into ``train.log``."""
        handler = logging.FileHandler(self.log_path)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        return handler
