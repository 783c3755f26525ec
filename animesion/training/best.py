"""Best-epoch bookkeeping: which epochs a run keeps as ``best`` (val top-1) and ``best_loss`` (val loss)."""

from __future__ import annotations

from dataclasses import dataclass

from .resume import Progress


@dataclass(frozen=True)
class Improvement:
    """Whether an epoch's validation beat the best so far: on top-1 (``top1``), on loss (``loss``)."""

    top1: bool
    loss: bool

    @property
    def any(self) -> bool:
        return self.top1 or self.loss


def record_best(progress: Progress, val: dict[str, float], loss_counts: bool = True) -> Improvement:
    """Update the best val top-1 and loss of ``progress`` with the val summary of its current epoch, and say
    which improved. ``loss_counts``: whether this epoch may become the best-loss one (False before a mask
    schedule's cool-down, whose earlier val losses are not comparable)."""
    better = Improvement(val["top1"] > progress.best_top1, loss_counts and val["loss"] < progress.best_loss)
    if better.top1:
        progress.best_top1, progress.best_top1_epoch = val["top1"], progress.epoch
    if better.loss:
        progress.best_loss, progress.best_loss_epoch = val["loss"], progress.epoch
    return better


__all__ = ["Improvement", "record_best"]
