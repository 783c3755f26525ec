"""One training epoch under Accelerate: forward, loss, backward, optimizer and schedule steps, progress bar.

Accelerate does the device placement, the DDP gradient averaging, mixed precision (autocast and the
fp16 loss scaler) and gradient accumulation: inside ``accelerator.accumulate`` the optimizer and the
prepared scheduler only step on every ``gradient_accumulation_steps``-th batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import torch
from accelerate import Accelerator
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader

from ..utils.progress import progress_bar
from .tagging import TagTraining

log = logging.getLogger(__name__)


def train_one_epoch(
    model: nn.Module, loader: DataLoader, optimizer: Optimizer, scheduler: LRScheduler, loss_fn: Callable,
    accelerator: Accelerator, *, epoch: int, log_freq: int, max_steps: int | None = None, progress: bool = True,
    tags: TagTraining | None = None,
) -> dict[str, float]:
    """Train for one pass over ``loader`` (at most ``max_steps`` batches).

    Batches with ``"tokens"`` (vision+tags models) give the model their tags; with ``tags`` (a mask
    schedule) the tags are masked first, the model predicts the masked ones, the masker counts the
    optimizer steps, and every ``log_freq`` steps a few decoded predictions go to the log.
    Returns the mean loss and top-1 over the samples of every process, the optimizer steps taken and the speed.
    """
    model.train()
    # [loss·n, correct, n] summed over this process's batches; reduced over processes at the end
    totals = torch.zeros(3, device=accelerator.device)
    steps = len(loader) if max_steps is None else min(len(loader), max_steps)
    optimizer_steps, start = 0, time.perf_counter()
    main = accelerator.is_main_process
    bar = progress_bar(loader, total=steps, desc=f"epoch {epoch}", leave=False, disable=not (progress and main))
    for step, batch in enumerate(bar):
        if step >= steps:
            break
        if batch is None:  # every image of this batch was unreadable (already reported)
            continue
        labels, tokens, masked = batch["label"], batch.get("tokens"), None
        if tokens is not None and tags is not None:
            masked = tags.masker(tokens)
        with accelerator.accumulate(model):
            tag_input = {} if tokens is None else {"tokens": tokens if masked is None else masked.inputs}
            output = model(batch["image"], **tag_input)
            terms = loss_fn(output, labels, None if masked is None else masked.labels)
            accelerator.backward(terms["loss"])
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        optimizer_steps += accelerator.sync_gradients
        if tags is not None and accelerator.sync_gradients:
            tags.masker.advance()
        loss = terms["loss"].detach()
        correct = (output["logits"].argmax(dim=-1) == labels).sum()
        totals += torch.stack([loss * labels.shape[0], correct.float(), totals.new_tensor(labels.shape[0])])
        if step % log_freq == 0 and main:
            lr = scheduler.get_last_lr()[0]
            bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}")
            log.info("epoch %d step %d/%d loss %.4f lr %.3e", epoch, step, steps, loss.item(), lr)
            if masked is not None:
                for line in tags.samples(output["token_logits"].detach(), masked, tokens):
                    log.info("tags: %s", line)
    loss_sum, correct, seen = accelerator.reduce(totals, reduction="sum").tolist()
    seconds = time.perf_counter() - start
    return {
        "train_loss": loss_sum / max(seen, 1),
        "train_top1": 100.0 * correct / max(seen, 1),
        "train_images_per_s": seen / max(seconds, 1e-9),
        "epoch_time_s": seconds,
        "optimizer_steps": optimizer_steps,
    }
