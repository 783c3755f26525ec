"""One training epoch: forward, loss, backward, optimizer and LR-schedule steps, with a progress bar."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..evaluation.predict import autocast

log = logging.getLogger(__name__)


def train_one_epoch(
    model: nn.Module, loader: DataLoader, optimizer: Optimizer, scheduler: LRScheduler,
    loss_fn: Callable, device: torch.device, *, epoch: int, log_freq: int,
    max_steps: int | None = None, progress: bool = True,
) -> dict[str, float]:
    """Train for one pass over ``loader`` (at most ``max_steps`` batches); return mean loss, top-1 and speed."""
    model.train()
    total_loss, correct, seen, start = 0.0, 0, 0, time.perf_counter()
    steps = len(loader) if max_steps is None else min(len(loader), max_steps)
    bar = tqdm(loader, total=steps, desc=f"epoch {epoch}", leave=False, disable=not progress)
    for step, batch in enumerate(bar):
        if step >= steps:
            break
        if batch is None:  # every image of this batch was unreadable (already reported)
            continue
        images = batch["image"].to(device, non_blocking=True)
        labels = batch["label"].to(device, non_blocking=True)
        with autocast(device):
            output = model(images)
        terms = loss_fn(output, labels)
        optimizer.zero_grad(set_to_none=True)
        terms["loss"].backward()
        optimizer.step()
        scheduler.step()
        n = labels.shape[0]
        total_loss += terms["loss"].item() * n
        correct += (output["logits"].argmax(dim=-1) == labels).sum().item()
        seen += n
        if step % log_freq == 0:
            bar.set_postfix(loss=f"{terms['loss'].item():.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
            log.info("epoch %d step %d/%d loss %.4f", epoch, step, steps, terms["loss"].item())
    seconds = time.perf_counter() - start
    return {
        "train_loss": total_loss / max(seen, 1),
        "train_top1": 100.0 * correct / max(seen, 1),
        "train_images_per_s": seen / max(seconds, 1e-9),
        "epoch_time_s": seconds,
    }
