"""Samples with their tags as tokens, for the vision+tags models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from .dataset import ImageDataset
from .tokenization.base import TagTokenizer

IGNORE = -100  # label of a position with nothing to predict: F.cross_entropy's default ignore_index


def special_positions(tokens: Tensor, special_ids: Iterable[int]) -> Tensor:
    """Bool [..., T]: where ``tokens`` hold a special id ([PAD], [CLS], [SEP], …), which is never masked."""
    return torch.isin(tokens, torch.tensor(sorted(special_ids), device=tokens.device))


def full_mask_labels(tokens: Tensor, special_ids: Iterable[int]) -> Tensor:
    """Labels [..., T] of ``tokens`` when every tag is masked: each tag token's id, -100 for special tokens."""
    return torch.where(special_positions(tokens, special_ids), IGNORE, tokens)


class TaggedImages(Dataset):
    """The samples of an :class:`ImageDataset` plus the record's tags as LongTensors [max_len]:

    ``"tokens"``: the tags encoded (``[CLS] tags… [SEP] [PAD]…``); ``"token_labels"``: what a model that
    sees every tag masked must predict (the tag ids; -100 on special tokens), the evaluation's targets.

    ``shuffle``: shuffle each sample's tag order before encoding (``shuffle_tokens``; training only). The
    order is drawn from torch's global generator, which the training loader seeds per sample and epoch,
    so a resumed run sees the same order. Unreadable images stay None (dropped by ``collate_skip_bad``).
    """

    def __init__(self, images: ImageDataset, tokenizer: TagTokenizer, shuffle: bool = False) -> None:
        self.images = images
        self.tokenizer = tokenizer
        self.shuffle = shuffle

    @property
    def records(self) -> list:
        """The records of the wrapped dataset (file, class, tags)."""
        return self.images.records

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        sample = self.images[index]
        if sample is None:
            return None
        tags = list(self.images.records[index].tags)
        if self.shuffle:
            tags = [tags[i] for i in torch.randperm(len(tags)).tolist()]
        tokens = torch.tensor(self.tokenizer.encode(tags), dtype=torch.long)
        return {**sample, "tokens": tokens, "token_labels": full_mask_labels(tokens, self.tokenizer.special_ids)}
