"""The pretraining loop: one pretext (:data:`~.pretexts.BUILDERS`) on a folder of unlabelled pictures, written as a
backbone file that 03 starts from (its ``backbone`` parameter)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from ..config.pretrain import PretrainConfig
from ..data.dataset import collate_skip_bad
from ..data.images import picture_files
from ..training.sampling import EpochShuffle, SeededAugmentation
from .network import backbone_state
from .pretexts import BUILDERS

log = logging.getLogger("animesion")


@dataclass
class PretrainResult:
    """Where the backbone went, the loss of each epoch, how many pictures and the seconds it took."""

    path: Path
    losses: list[float]
    images: int
    seconds: float


def pretrain(config: PretrainConfig, progress: bool = True) -> PretrainResult:
    """``config.method`` on ``config.images_path``; the backbone goes to ``config.output_file`` (safetensors,
    fp16), on the GPU when there is one."""
    from tqdm.auto import tqdm

    from ..errors import ConfigError
    from ..optim.schedules import lr_factor
    from ..paths import resolve_path
    from .weights import backbone_header, save_backbone

    files = picture_files(resolve_path(config.images_path), recursive=True)[:config.max_images or None]
    if len(files) < config.batch_size:
        raise ConfigError(f"'{config.images_path}' has {len(files)} pictures; a batch needs at least "
                          f"{config.batch_size}.")
    torch.manual_seed(config.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pretext = BUILDERS.get(config.method)(config).to(device, memory_format=torch.channels_last)
    start = backbone_header(config.backbone) if config.backbone else None  # read now: the file may go meanwhile
    loader = DataLoader(SeededAugmentation(pretext.dataset(files)), batch_size=config.batch_size,
                        sampler=EpochShuffle(len(files), config.seed), drop_last=True,
                        num_workers=config.num_workers, collate_fn=collate_skip_bad,
                        persistent_workers=config.num_workers > 0)
    steps = config.no_epochs * len(loader)
    optimizer = torch.optim.AdamW(pretext.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor("warmupCosine", total_steps=steps,
                                                                      warmup_steps=max(1, len(loader) // 10)))
    began, losses = time.perf_counter(), []
    bar = tqdm(total=steps, desc=config.method, disable=not progress)
    for epoch in range(config.no_epochs):
        pretext.start_epoch(epoch, files, progress)
        pretext.train()
        loader.sampler.set_epoch(epoch)
        total, count = 0.0, 0
        for batch in loader:
            if batch is None:
                continue
            loss = pretext.loss(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            value = loss.item()
            total, count = total + value, count + 1
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{value:.3f}")
        losses.append(total / max(count, 1))
        log.info("%s epoch %d/%d: loss %.3f", config.method, epoch + 1, config.no_epochs, losses[-1])
    bar.close()
    seconds = time.perf_counter() - began
    path = save_backbone(resolve_path(config.output_file), backbone_state(pretext.backbone), config, len(files),
                         losses, seconds, start)
    return PretrainResult(path, losses, len(files), seconds)


__all__ = ["PretrainResult", "pretrain"]
