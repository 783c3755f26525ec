"""The one evaluation loader: every sample of a split, in order, read as a model's predictor reads pictures.

Training's validation and test, the open-set calibration, ``04_evaluate`` and the benchmarks all read
labelled pictures through :func:`eval_loader` (usually as ``Predictor.loader``); the training loader,
with its seeded shuffle and augmentation, is :func:`animesion.training.sampling.make_train_loader`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from .dataset import ImageDataset, collate_skip_bad
from .records import Record
from .tag_set import TagSet
from .tag_tokens import TaggedImages
from .tokenization.base import TagTokenizer
from .transforms import decode_size, eval_transform


def ordered_loader(dataset: Dataset, batch_size: int, workers: int = 0) -> DataLoader:
    """Batches of ``dataset`` in order, the last one partial: metrics see every sample exactly once."""
    return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers,
                      collate_fn=collate_skip_bad, persistent_workers=workers > 0,
                      pin_memory=torch.cuda.is_available())


def eval_loader(records: Sequence[Record], image_root: Path, image_size: int, batch_size: int, workers: int = 0, *,
                tokenizer: TagTokenizer | None = None, cache: bool = False,
                tag_set: TagSet | None = None) -> DataLoader:
    """The pictures of ``records`` (under ``image_root``) as ``{"image", "label", "index"}`` batches for a model
    of input ``image_size``: the eval transform and the reduced JPEG decode size. ``tokenizer``: every sample
    also carries its tags as tokens (vision+tags models); ``tag_set``: as multi-hot ``"tag_targets"`` (a tag
    head's). ``cache``: keep the decoded pictures in memory (a split read every epoch)."""
    dataset = ImageDataset(records, image_root, eval_transform(image_size), decode_size(image_size), cache=cache,
                           tag_set=tag_set)
    if tokenizer is not None:
        dataset = TaggedImages(dataset, tokenizer)
    return ordered_loader(dataset, batch_size, workers)


__all__ = ["eval_loader", "ordered_loader"]
