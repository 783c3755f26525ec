"""One training epoch under Accelerate: forward, loss, backward, optimizer, schedule and weight-average steps.

Accelerate does the device placement, the DDP gradient averaging, mixed precision (autocast and the
fp16 loss scaler) and gradient accumulation: inside ``accelerator.accumulate`` the optimizer and the
prepared scheduler only step on every ``gradient_accumulation_steps``-th batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from accelerate import Accelerator
from timm.data import Mixup
from timm.utils import ModelEmaV3
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .tagging import TagTraining

log = logging.getLogger(__name__)


@dataclass
class Stepper:
    """What one optimizer step needs: the model as prepared by Accelerate, its optimizer and schedule, the
    loss, and the recipe's optional parts (``mixup``: timm's batch mixer; ``ema``: timm's weight average of
    ``plain``, the unwrapped model; ``tags``: the masked-tag training)."""

    model: nn.Module
    plain: nn.Module
    optimizer: Optimizer
    scheduler: LRScheduler
    loss_fn: Callable
    accelerator: Accelerator
    mixup: Mixup | None = None
    ema: ModelEmaV3 | None = None
    tags: TagTraining | None = None


def train_one_epoch(stepper: Stepper, loader: DataLoader, *, epoch: int, step: int, log_freq: int,
                    max_steps: int | None = None, bar: tqdm | None = None) -> dict[str, float]:
    """Train for one pass over ``loader`` (at most ``max_steps`` batches); ``step``: optimizer steps so far.

    Batches with ``"tokens"`` (vision+tags models) give the model their tags; with a mask schedule the tags
    are masked first, the model predicts the masked ones, the masker counts the optimizer steps, and every
    ``log_freq`` steps a few decoded predictions go to the log. With ``mixup`` the batch is blended and the
    targets are soft; train top-1 is still counted against the true labels.
    Returns the mean loss and top-1 over the samples of every process, the optimizer steps taken, the speed,
    and the seconds spent waiting for batches.
    """
    s, accelerator = stepper, stepper.accelerator
    s.model.train()
    # [loss·n, correct, n] summed over this process's batches; reduced over processes at the end
    totals = torch.zeros(3, device=accelerator.device)
    steps = len(loader) if max_steps is None else min(len(loader), max_steps)
    optimizer_steps, waiting, start = 0, 0.0, time.perf_counter()
    if bar is not None:
        bar.reset(total=steps)
        bar.set_description(f"epoch {epoch}")
    ready = time.perf_counter()
    for index, batch in enumerate(loader):
        waiting += time.perf_counter() - ready
        if index >= steps:
            break
        if batch is None:  # every image of this batch was unreadable (already reported)
            continue
        images, labels, tokens, masked = batch["image"], batch["label"], batch.get("tokens"), None
        targets = labels
        if s.mixup is not None:
            images, labels, targets = _mix(s.mixup, images, labels)
        if tokens is not None and s.tags is not None:
            masked = s.tags.masker(tokens)
        with accelerator.accumulate(s.model):
            tag_input = {} if tokens is None else {"tokens": tokens if masked is None else masked.inputs}
            output = s.model(images, **tag_input)
            terms = s.loss_fn(output, targets, None if masked is None else masked.labels)
            accelerator.backward(terms["loss"])
            s.optimizer.step()
            s.scheduler.step()
            s.optimizer.zero_grad(set_to_none=True)
        if accelerator.sync_gradients:
            optimizer_steps += 1
            if s.ema is not None:
                s.ema.update(s.plain, step=step + optimizer_steps)
            if s.tags is not None:
                s.tags.masker.advance()
        loss = terms["loss"].detach()
        correct = (output["logits"].argmax(dim=-1) == labels).sum()
        totals += torch.stack([loss * labels.shape[0], correct.float(), totals.new_tensor(labels.shape[0])])
        if bar is not None:
            bar.update()
        if index % log_freq == 0 and accelerator.is_main_process:
            lr = s.scheduler.get_last_lr()[0]
            if bar is not None:
                bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}")
            log.info("epoch %d step %d/%d loss %.4f lr %.3e", epoch, index, steps, loss.item(), lr)
            if masked is not None:
                for line in s.tags.samples(output["token_logits"].detach(), masked, tokens):
                    log.info("tags: %s", line)
        ready = time.perf_counter()
    loss_sum, correct, seen = accelerator.reduce(totals, reduction="sum").tolist()
    seconds = time.perf_counter() - start
    return {
        "train_loss": loss_sum / max(seen, 1),
        "train_top1": 100.0 * correct / max(seen, 1),
        "train_images_per_s": seen / max(seconds, 1e-9),
        "epoch_time_s": seconds,
        "data_time_s": waiting,
        "optimizer_steps": optimizer_steps,
    }


def _mix(mixup: Mixup, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """timm's mixup/cutmix of a batch: (mixed images, the true labels kept, soft targets [B, classes]).

    timm pairs the batch with its mirror image and needs an even size; a batch that lost a picture to an
    unreadable file gives up its last sample.
    """
    if len(images) % 2:
        images, labels = images[:-1], labels[:-1]
    mixed, targets = mixup(images, labels)
    return mixed, labels, targets
