"""A self-describing run folder: params.yaml, history.csv, metrics.json, a log, checkpoints, figures."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..atomic import atomic_write
from ..config.train import TrainConfig
from ..errors import CheckpointError
from ..paths import resolve_path

# Parameters that do not change what is trained, so they do not change the run folder either: a run
# resumed with ``resume=True``, more loader workers, another process count or another speed setting
# (memory layout, compilation), or another weight of colour or share of unknown in the calibration, lands in the
# same folder.
NOT_IN_RUN_NAME = (
    "results_dir", "run_name", "log_freq", "no_cpu_workers", "save_checkpoint_freq", "resume", "keep_last",
    "tracker", "num_processes", "channels_last", "compile", "cache_images", "colour_weight",
    "false_unknown",
)


def run_name(config: TrainConfig) -> str:
    """``config.run_name``, or ``<dataset>_<model>_is<size>_<hash>``: the same parameters give the same name.

    A parameter added since run folders were first written counts only when it differs from its legacy
    value, so a run that trains as earlier versions did keeps the folder they named.
    """
    if config.run_name:
        return config.run_name
    legacy = TrainConfig.legacy_values()
    # 'auto' for a shallow model is no backbone, and layer decay does nothing from random weights
    values = {**config.to_dict(), "backbone": config.backbone_used, "layer_decay": config.layer_decay_used}
    relevant = {k: v for k, v in values.items() if k not in NOT_IN_RUN_NAME and not (k in legacy and v == legacy[k])}
    digest = hashlib.sha1(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:8]
    return f"{config.dataset_name}_{config.model_name}_is{config.image_size}_{digest}"


@dataclass
class TrainResult:
    """What a run produced: its folder, per-epoch history, final metrics, checkpoint paths and figures."""

    run_dir: Path
    history: pd.DataFrame
    metrics: dict[str, Any]
    best_checkpoint: Path
    last_checkpoint: Path
    figures: dict[str, Path]


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
        self.states_path = self.path / "checkpoints"
        self.tracking_path = self.path / "tracking"

    def checkpoint(self, tag: str) -> Path:
        """Path of the checkpoint called ``tag`` (best, last, epoch5, ...)."""
        return self.path / f"{tag}.safetensors"

    def state(self, epoch: int) -> Path:
        """Path of the resumable training state written after ``epoch``."""
        return self.states_path / f"epoch{epoch:04d}.pt"

    def states(self) -> list[Path]:
        """The resumable training states in this folder, oldest first."""
        return sorted(self.states_path.glob("epoch[0-9][0-9][0-9][0-9].pt"))

    @property
    def finished(self) -> bool:
        """True once the run wrote its test metrics (``metrics.json`` is the last file a run writes)."""
        return self.metrics_path.is_file()

    def params(self) -> dict[str, Any]:
        """The parameters in ``params.yaml`` (as the run wrote them)."""
        return yaml.safe_load((self.path / "params.yaml").read_text()) or {}

    def result(self) -> TrainResult:
        """The :class:`TrainResult` of the finished run in this folder, from its files."""
        if not self.finished:
            raise CheckpointError(f"'{self.path}' holds no finished run (no metrics.json); train it first.")
        figures = {path.stem: path for path in sorted((self.path / "figures").glob("*.png"))}
        return TrainResult(self.path, pd.read_csv(self.history_path), json.loads(self.metrics_path.read_text()),
                           self.checkpoint("best"), self.checkpoint("last"), figures)

    def write_params(self, config: TrainConfig) -> None:
        """Write ``params.yaml``: a parameters file that reproduces this run."""
        text = yaml.safe_dump(config.to_dict(), sort_keys=False)
        atomic_write(self.path / "params.yaml", lambda tmp: tmp.write_text(text))

    def write_history(self, rows: list[dict[str, Any]]) -> None:
        """Write ``history.csv`` (one row per epoch so far) atomically; a resumed run rewrites the same file."""

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as f:
                writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else [])
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(self.history_path, write)

    def reset_history(self) -> None:
        """Remove the ``history.csv`` of an earlier run in this folder (a new run, not a resumed one)."""
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
