"""The epochs of a run: train, validate, keep the best, save, log; one history row per epoch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import pandas as pd
from accelerate import Accelerator
from torch.utils.data import DataLoader

from ..evaluation.metrics import summary
from ..evaluation.multilabel import tag_metrics
from ..evaluation.tag_results import TagResults, tag_results
from ..prediction.predictions import Predictions
from ..prediction.predictor import Predictor
from ..prediction.tag_thresholds import DEFAULT_THRESHOLD
from ..utils.progress import progress_bar
from .best import record_best
from .distributed import gather_predictions
from .engine import train_one_epoch
from .saving import save_epoch
from .session import Session

log = logging.getLogger("animesion")


class Callback(Protocol):
    """Something that watches training, e.g. the notebook's live plot."""

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        """Called after every epoch with the history so far (one row per epoch)."""


def evaluate(predictor: Predictor, loader: DataLoader, accelerator: Accelerator, max_batches: int | None,
             desc: str, bar: Any = None, progress: bool = False) -> tuple[dict[str, float], Predictions]:
    """Loss, top-1 and top-5 over every sample of ``loader``, counted once across processes, and the predictions."""
    preds = gather_predictions(accelerator, predictor.predict_loader(loader, max_batches=max_batches, desc=desc,
                                                                     progress=progress, bar=bar))
    return summary(preds), preds


def tag_scorer(session: Session) -> Callable[[Predictions, str], TagResults] | None:
    """Scores of the masked-tag predictions on a split (None when the run does not predict tags)."""
    if session.tags is None:
        return None
    data, tokenizer = session.data, session.tags.tokenizer

    def score(preds: Predictions, split: str) -> TagResults:
        records = data.splits[split]
        return tag_results(preds, [records[i] for i in preds.indices.tolist()], tokenizer, data.vocab)

    return score


def run_epochs(session: Session, callbacks: Sequence[Callback] = ()) -> None:
    """Every epoch from where ``session.progress`` stands to ``no_epochs``."""
    s = session
    # One bar each for training and validation, reset every epoch: a notebook keeps two outputs, not two per epoch.
    bars = (progress_bar(total=s.steps_per_epoch, desc="training", leave=False, disable=not s.show_progress),
            progress_bar(total=len(s.loaders["val"]), desc="validating", leave=False, disable=not s.show_progress))
    scorer = tag_scorer(s)
    for epoch in range(s.progress.epoch + 1, s.config.no_epochs + 1):
        start = time.perf_counter()
        row, val, steps = _train_and_validate(s, epoch, bars, scorer)
        s.progress.epoch, s.progress.step = epoch, s.progress.step + steps
        # With masked tags, best-loss checkpoints are kept during the cool-down only (the masking's final
        # state): earlier val losses come from a model trained on visible tags and are not comparable.
        improvement = record_best(s.progress, val, loss_counts=s.tags is None or s.tags.masker.settled)
        s.progress.train_time_s += time.perf_counter() - start
        saving = save_epoch(s, improvement, row)
        s.progress.train_time_s += saving
        s.accelerator.log(s.progress.history[-1], step=epoch)
        _log_epoch(s.progress.history[-1], time.perf_counter() - start)
        for callback in callbacks:
            callback.on_epoch_end(pd.DataFrame(s.progress.history))
    for bar in bars:
        bar.close()


def _train_and_validate(s: Session, epoch: int, bars: tuple, scorer: Callable | None) -> tuple[dict, dict, int]:
    """One epoch's training and validation: its history row (without the saving time), the val summary and
    the optimizer steps taken."""
    lr = s.stepper.scheduler.get_last_lr()[0]
    s.loaders["train"].set_epoch(epoch)
    stats = train_one_epoch(s.stepper, s.loaders["train"], epoch=epoch, step=s.progress.step,
                            log_freq=s.config.log_freq, max_steps=s.max_steps, bar=bars[0])
    validated = time.perf_counter()
    val, val_preds = evaluate(s.predictor, s.loaders["val"], s.accelerator, s.max_steps, "validating", bars[1])
    row = {"epoch": epoch, "lr": lr, **{k: v for k, v in stats.items() if k != "optimizer_steps"},
           "val_loss": val["loss"], "val_top1": val["top1"], "val_top5": val["top5"],
           "val_time_s": time.perf_counter() - validated}
    if scorer is not None:
        row |= {f"val_{k}": v for k, v in scorer(val_preds, "val").scores.items()}
    if val_preds.tag_targets is not None:  # the tag head, before any threshold is calibrated: mAP and F1 at P = R
        found = tag_metrics(val_preds.tag_scores, val_preds.tag_targets, DEFAULT_THRESHOLD)
        row |= {"val_tag_map": found["tag_map"], "val_tag_f1_at_pr": found["tag_f1_at_pr"]}
    return row, val, stats["optimizer_steps"]


def _log_epoch(row: dict[str, Any], seconds: float) -> None:
    log.info("epoch %d: train loss %.4f top-1 %.2f%% | val loss %.4f top-1 %.2f%% top-5 %.2f%% | %.1f s "
             "(%.1f s waiting for data, %.1f s validating, %.1f s saving)", row["epoch"], row["train_loss"],
             row["train_top1"], row["val_loss"], row["val_top1"], row["val_top5"], seconds, row["data_time_s"],
             row["val_time_s"], row["save_time_s"])


__all__ = ["Callback", "evaluate", "run_epochs", "tag_scorer"]
