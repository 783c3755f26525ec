"""An epoch's files: best weights, the resumable state and the history; the last weights at the end.

Weights and states are copied now and written by the session's background writer while the next epoch
trains; a best-loss epoch that is also the best-accuracy one links to the same file. Every write is atomic:
a full disk stops the run with a CheckpointError and the files of earlier epochs stay as they were.
"""

from __future__ import annotations

import copy
import time
from functools import partial
from typing import Any

from accelerate.utils import gather_object

from ..atomic import atomic_link
from ..models.checkpoint import save_checkpoint, weights_of
from .best import Improvement
from .resume import prune_states, save_state
from .rng import capture_rng
from .session import Session
from .writer import detached_copy


def save_epoch(session: Session, improvement: Improvement, row: dict[str, Any]) -> float:
    """Queue this epoch's best weights (those ``improvement`` names) and, when due, a resumable state; append
    ``row`` to the history with the seconds this took (copying and queueing) and write it. Returns the seconds."""
    s, progress, epoch = session, session.progress, session.progress.epoch
    start = time.perf_counter()
    due = epoch % s.config.save_checkpoint_freq == 0 or epoch == s.config.no_epochs
    # Captured last, so a resumed run continues the random streams from exactly here (one per process).
    rng = gather_object([capture_rng()]) if due else []
    if s.main and improvement.any:
        _queue_best(s, improvement, {"epoch": epoch, "val_top1": row["val_top1"], "val_loss": row["val_loss"]})
    objects = {name: detached_copy(obj.state_dict()) for name, obj in s.stateful.items()} if due and s.main else {}
    seconds = time.perf_counter() - start  # copying and queueing; the writing overlaps the next epoch
    progress.history.append({**row, "save_time_s": seconds})
    if not s.main:
        return seconds
    if due:
        s.writer.submit(partial(save_state, s.run.state(epoch), s.config, copy.deepcopy(progress), objects, rng))
        s.writer.submit(partial(prune_states, s.run, s.config.keep_last))
    s.run.write_history(progress.history)
    return seconds


def _queue_best(s: Session, improvement: Improvement, info: dict[str, Any]) -> None:
    weights = weights_of(s.networks.kept)
    best, best_loss = s.run.checkpoint("best"), s.run.checkpoint("best_loss")
    if improvement.top1:
        s.writer.submit(partial(save_checkpoint, best, weights, **s.meta, info=info))
    if improvement.loss:
        s.writer.submit(partial(atomic_link, best, best_loss) if improvement.top1 else
                        partial(save_checkpoint, best_loss, weights, **s.meta, info=info))


def save_last(session: Session) -> None:
    """``last.safetensors``: the final weights; a link to the best (or best-loss) file when that is the same epoch."""
    s, progress = session, session.progress
    last = s.run.checkpoint("last")
    for tag, epoch in (("best", progress.best_top1_epoch), ("best_loss", progress.best_loss_epoch)):
        if epoch == progress.epoch:
            s.writer.submit(partial(atomic_link, s.run.checkpoint(tag), last))
            return
    final = progress.history[-1]
    info = {"epoch": progress.epoch, "val_top1": final["val_top1"], "val_loss": final["val_loss"]}
    s.writer.submit(partial(save_checkpoint, last, weights_of(s.networks.kept), **s.meta, info=info))


__all__ = ["save_epoch", "save_last"]
