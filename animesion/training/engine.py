"""One training epoch under Accelerate: forward, loss, backward, optimizer, schedule and weight-average steps.

Accelerate does the device placement, the DDP gradient averaging, mixed precision (autocast and the
fp16 loss scaler) and gradient accumulation: inside ``accelerator.accumulate`` the optimizer and the
prepared scheduler only step on every ``gradient_accumulation_steps``-th batch.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import torch
from accelerate import Accelerator
from timm.data import Mixup
from timm.data.mixup import one_hot
from timm.utils import ModelEmaV3
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data.masking import MaskedTokens
from .losses import Targets, TrainingLoss
from .tagging import TagTraining

log = logging.getLogger(__name__)


@dataclass
class Networks:
    """The one network of a run under its roles. ``module``: the plain network on its device, whose weights
    train and which resumable states hold; ``step``: the same network as the training step calls it
    (Accelerate's DDP wrapper and ``torch.compile`` around ``module``); ``ema``: timm's weight average."""

    module: nn.Module
    step: nn.Module
    ema: ModelEmaV3 | None = None

    @property
    def kept(self) -> nn.Module:
        """The weights that are validated, tested and saved: the average with ``model_ema``, else the trained ones."""
        return self.ema.module if self.ema is not None else self.module


@dataclass
class BatchMixer:
    """timm's mixup/cutmix on dense targets (``Mixup(multi_label=True, label_smoothing=0)`` over the classes and
    the tags), with the run's class count and label smoothing, which :func:`_mix` applies to the classes."""

    mixup: Mixup
    classes: int
    smoothing: float


@dataclass
class Stepper:
    """What one optimizer step needs: the networks, their optimizer and schedule, the loss, Accelerate, and
    the recipe's optional parts (``mixup``: timm's batch mixer; ``tags``: the masked-tag training)."""

    networks: Networks
    optimizer: Optimizer
    scheduler: LRScheduler
    loss_fn: TrainingLoss
    accelerator: Accelerator
    mixup: BatchMixer | None = None
    tags: TagTraining | None = None


@dataclass
class Step:
    """A batch ready for the model: ``images`` [B, 3, S, S], the model's other ``inputs`` (tag tokens), the
    loss's ``targets`` and, with masked tags, what was masked (for the log)."""

    images: Tensor
    inputs: dict[str, Tensor]
    targets: Targets
    masked: MaskedTokens | None = None


def prepare(stepper: Stepper, batch: dict[str, Any]) -> Step:
    """Mix the batch (mixup/cutmix) and mask its tags (mask schedule), as the recipe says."""
    images, labels, tokens, tags = batch["image"], batch["label"], batch.get("tokens"), batch.get("tag_targets")
    classes = labels
    if stepper.mixup is not None:
        images, labels, classes, tags = _mix(stepper.mixup, images, labels, tags)
    masked = stepper.tags.masker(tokens) if tokens is not None and stepper.tags is not None else None
    inputs = {} if tokens is None else {"tokens": tokens if masked is None else masked.inputs}
    return Step(images, inputs, Targets(labels, classes, None if masked is None else masked.labels, tags), masked)


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
    s.networks.step.train()
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
        prepared = prepare(s, batch)
        output, loss = _optimise(s, prepared)
        if accelerator.sync_gradients:
            optimizer_steps += 1
            if s.networks.ema is not None:
                s.networks.ema.update(s.networks.module, step=step + optimizer_steps)
            if s.tags is not None:
                s.tags.masker.advance()
        labels = prepared.targets.labels
        correct = (output["logits"].argmax(dim=-1) == labels).sum()
        totals += torch.stack([loss * labels.shape[0], correct.float(), totals.new_tensor(labels.shape[0])])
        if bar is not None:
            bar.update()
        if index % log_freq == 0 and accelerator.is_main_process:
            _log_step(s, (epoch, index, steps), loss, bar, prepared, output, batch)
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


def _optimise(s: Stepper, prepared: Step) -> tuple[dict[str, Tensor], Tensor]:
    """Forward, loss, backward and (on an accumulation boundary) the optimizer and schedule steps."""
    with s.accelerator.accumulate(s.networks.step):
        output = s.networks.step(prepared.images, **prepared.inputs)
        terms = s.loss_fn(output, prepared.targets)
        s.accelerator.backward(terms["loss"])
        s.optimizer.step()
        s.scheduler.step()
        s.optimizer.zero_grad(set_to_none=True)
    return output, terms["loss"].detach()


def _log_step(s: Stepper, where: tuple[int, int, int], loss: Tensor, bar: tqdm | None, prepared: Step,
              output: dict[str, Tensor], batch: dict[str, Any]) -> None:
    """The loss and learning rate on the bar and in the log (``where``: epoch, step, steps); with masked tags,
    a few decoded predictions."""
    lr = s.scheduler.get_last_lr()[0]
    if bar is not None:
        bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}")
    log.info("epoch %d step %d/%d loss %.4f lr %.3e", *where, loss.item(), lr)
    if prepared.masked is not None:
        for line in s.tags.samples(output["token_logits"].detach(), prepared.masked, batch["tokens"]):
            log.info("tags: %s", line)


def _mix(mixer: BatchMixer, images: Tensor, labels: Tensor, tags: Tensor | None) -> tuple[Tensor, ...]:
    """timm's mixup/cutmix of a batch: (mixed images, the true labels kept, soft targets [B, classes], the tag
    targets [B, tags] blended alike, or None).

    The mixer works on dense targets (timm's ``multi_label``): the smoothed one-hot classes, then the tags,
    blended with the same λ, so the class targets are those of timm's single-label mixup and the tags follow
    the pictures. timm pairs the batch with its mirror image and needs an even size; a batch that lost a picture
    to an unreadable file gives up its last sample.
    """
    if len(images) % 2:
        images, labels, tags = images[:-1], labels[:-1], None if tags is None else tags[:-1]
    classes, off = mixer.classes, mixer.smoothing / mixer.classes
    dense = one_hot(labels, classes, on_value=1.0 - mixer.smoothing + off, off_value=off)  # [B, classes]
    if tags is not None:
        dense = torch.cat([dense, tags.to(dense.device, dense.dtype)], dim=1)  # [B, classes + tags]
    mixed, targets = mixer.mixup(images, dense)
    return mixed, labels, targets[:, :classes], None if tags is None else targets[:, classes:]
