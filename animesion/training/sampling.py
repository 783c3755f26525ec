"""Shuffling and augmentation that depend on (seed, epoch, sample) only.

The order of an epoch and the random augmentation of every sample are drawn from generators seeded
with ``seed + epoch`` (as ``DistributedSampler`` does), not from a stream that runs across epochs,
processes and loader workers. So a resumed run sees the same batches as an uninterrupted one, and
one process or several (each taking its slice of the global batch) see the same augmented images.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..data.dataset import collate_skip_bad


class EpochShuffle(Sampler[tuple[int, int]]):
    """Yields ``(index, augmentation_seed)`` in a random order that is a function of ``seed`` and the epoch."""

    def __init__(self, num_samples: int, seed: int) -> None:
        self.num_samples = num_samples
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch's order; Accelerate's prepared loaders call this from ``loader.set_epoch``."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[int, int]]:
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.num_samples, generator=generator)
        seeds = torch.randint(0, 2**62, (self.num_samples,), generator=generator)
        return zip(order.tolist(), seeds.tolist())

    def __len__(self) -> int:
        return self.num_samples


@contextmanager
def seeded_generators(seed: int) -> Iterator[None]:
    """Within the block, torch's, Python's and NumPy's global generators start from ``seed``; afterwards
    each is back where it was, so the training streams (dropout, mixup) never see the augmentation's draws."""
    python, numpy = random.getstate(), np.random.get_state()  # noqa: NPY002 - the global state is what timm draws from
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        random.seed(seed)
        np.random.seed(seed % 2**32)  # noqa: NPY002
        try:
            yield
        finally:
            random.setstate(python)
            np.random.set_state(numpy)  # noqa: NPY002


class SeededAugmentation(Dataset):
    """Looks up ``(index, seed)`` keys: loads ``dataset[index]`` with the global generators seeded by ``seed``.

    torchvision's random transforms draw from torch's generator, timm's (random-resized crop, RandAugment,
    random erasing) from Python's and NumPy's as well; seeding all three around each sample makes every
    augmentation a function of (seed, epoch, sample), whatever the process or worker that loads it.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> Any:
        index, seed = key
        with seeded_generators(seed):
            return self.dataset[index]


def make_train_loader(dataset: Dataset, batch_size: int, workers: int, seed: int) -> DataLoader:
    """The training loader: epoch-seeded order and augmentation, last partial batch dropped."""
    return DataLoader(
        SeededAugmentation(dataset), batch_size=batch_size, sampler=EpochShuffle(len(dataset), seed),
        drop_last=len(dataset) > batch_size, num_workers=workers, collate_fn=collate_skip_bad,
        persistent_workers=workers > 0, pin_memory=torch.cuda.is_available(),
    )
