"""``train(config)``: the whole run of ``03_train``, from data to test metrics, in one call."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch

from ..config.train import TrainConfig
from ..data.dataset import DatasetSplits, ImageDataset, load_dataset, make_loader
from ..data.transforms import build_transform
from ..evaluation.metrics import summary
from ..evaluation.predict import predict
from ..models import count_parameters, create_model
from .checkpoint import load_checkpoint, save_checkpoint
from .engine import train_one_epoch
from .losses import TrainingLoss
from .run_dir import RunDir
from .schedules import LR_SCHEDULES
from .weights import load_initial_weights

log = logging.getLogger("animesion")


class Callback(Protocol):
    """Something that watches training, e.g. the notebook's live plot."""

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        """Called after every epoch with the history so far (one row per epoch)."""


@dataclass
class TrainResult:
    """What a run produced: its folder, per-epoch history, final metrics and checkpoint paths."""

    run_dir: Path
    history: pd.DataFrame
    metrics: dict[str, Any]
    best_checkpoint: Path
    last_checkpoint: Path


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds legacy global-state users (e.g. some augmentations)
    torch.manual_seed(seed)


def pick_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def build_loaders(config: TrainConfig, data: DatasetSplits) -> dict[str, torch.utils.data.DataLoader]:
    """Train (shuffled, augmented) and val/test (in order, every sample) loaders."""
    loaders = {}
    for split, records in data.splits.items():
        train = split == "train"
        dataset = ImageDataset(records, data.image_root, build_transform(config.image_size, train),
                               draft_size=config.image_size + 32)
        loaders[split] = make_loader(dataset, config.batch_size, train, config.no_cpu_workers, config.seed)
    return loaders


def train(config: TrainConfig, callbacks: Sequence[Callback] = (), progress: bool = True) -> TrainResult:
    """Train ``config.model_name`` on ``config.dataset_name``, validating every epoch and testing at the end.

    Writes ``results_dir/<run_name>/`` with params.yaml, history.csv, metrics.json, train.log,
    best/last/periodic checkpoints and figures.
    """
    run = RunDir(config)
    handler = run.file_logger()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        return _train(config, run, callbacks, progress)
    finally:
        log.removeHandler(handler)
        handler.close()


def _train(config: TrainConfig, run: RunDir, callbacks: Sequence[Callback], progress: bool) -> TrainResult:
    set_seed(config.seed)
    device = pick_device()
    run.write_params(config)
    run.reset_history()
    data = load_dataset(config.dataset_name, config.dataset_path, with_tags=config.multimodal, seed=config.seed,
                        progress=progress)
    loaders = build_loaders(config, data)
    model = create_model(config, data.num_classes, len(data.vocab) if data.vocab else None)
    loaded = load_initial_weights(model, config) if config.checkpoint_path else None
    model.to(device)
    log.info("run %s: %s on %s (%d classes, %s train / %s val / %s test images), %d parameters, device %s",
             run.name, config.model_name, config.dataset_name, data.num_classes, len(data.splits["train"]),
             len(data.splits["val"]), len(data.splits["test"]), count_parameters(model), device)

    max_steps = config.log_freq * 3 if config.debugging else None
    steps_per_epoch = min(len(loaders["train"]), max_steps or len(loaders["train"]))
    optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=0.9)
    scheduler = LR_SCHEDULES.get(config.lr_scheduler)(
        optimizer, total_steps=steps_per_epoch * config.no_epochs, warmup_steps=config.warmup_steps,
        steps_per_epoch=steps_per_epoch, epoch_decay=config.epoch_decay,
    )
    loss_fn = TrainingLoss(config)
    meta = {"class_names": data.class_names, "vocab": data.vocab}
    rows: list[dict[str, Any]] = []
    best_top1, best_epoch, start = -1.0, 0, time.perf_counter()
    for epoch in range(1, config.no_epochs + 1):
        lr = scheduler.get_last_lr()[0]
        stats = train_one_epoch(model, loaders["train"], optimizer, scheduler, loss_fn, device, epoch=epoch,
                                log_freq=config.log_freq, max_steps=max_steps, progress=progress)
        val = summary(predict(model, loaders["val"], device, max_batches=max_steps, desc="validating",
                              progress=progress))
        row = {"epoch": epoch, "lr": lr, **stats, "val_loss": val["loss"], "val_top1": val["top1"],
               "val_top5": val["top5"]}
        rows.append(row)
        run.append_history(row)
        info = {"epoch": epoch, "val_top1": val["top1"], "val_loss": val["loss"]}
        if val["top1"] > best_top1:
            best_top1, best_epoch = val["top1"], epoch
            save_checkpoint(run.checkpoint("best"), model, config, **meta, info=info)
        save_checkpoint(run.checkpoint("last"), model, config, **meta, info=info)
        if epoch % config.save_checkpoint_freq == 0:
            save_checkpoint(run.checkpoint(f"epoch{epoch}"), model, config, **meta, info=info)
        log.info("epoch %d: train loss %.4f top-1 %.2f%% | val loss %.4f top-1 %.2f%% top-5 %.2f%%", epoch,
                 stats["train_loss"], stats["train_top1"], val["loss"], val["top1"], val["top5"])
        history = pd.DataFrame(rows)
        for callback in callbacks:
            callback.on_epoch_end(history)
    train_time = time.perf_counter() - start

    best = load_checkpoint(run.checkpoint("best"), device)
    test = summary(predict(best.model, loaders["test"], device, max_batches=max_steps, desc="testing",
                           progress=progress))
    metrics = {
        "run_name": run.name, "test_top1": test["top1"], "test_top5": test["top5"], "test_loss": test["loss"],
        "test_samples": test["samples"], "best_val_top1": best_top1, "best_epoch": best_epoch,
        "train_time_s": train_time, "num_parameters": count_parameters(model), "num_classes": data.num_classes,
        "device": str(device), "skipped_files": data.problems,
        "initial_weights": str(loaded) if loaded else "",
    }
    run.write_metrics(metrics)
    log.info("test top-1 %.2f%% top-5 %.2f%% (best val epoch %d)", test["top1"], test["top5"], best_epoch)
    return TrainResult(run.path, pd.DataFrame(rows), metrics, run.checkpoint("best"), run.checkpoint("last"))
