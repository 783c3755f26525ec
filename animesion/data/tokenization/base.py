"""What every tag tokenizer offers: fixed-length id sequences ``[CLS] … [SEP] [PAD]…`` and the way back."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import torch

from ..vocab import MASK_ID


def masked_prompt(length: int, cls_id: int, sep_id: int, mask_id: int = MASK_ID) -> torch.Tensor:
    """LongTensor [length]: ``[CLS]``, ``length - 2`` mask ids, ``[SEP]``."""
    return torch.tensor([cls_id, *[mask_id] * (length - 2), sep_id], dtype=torch.long)


class TagTokenizer(ABC):
    """Encode a list of tags as ``max_len`` token ids, and decode ids back to tags.

    ``encode(["blonde hair", "smile"])`` gives ``[CLS] <tokens> [SEP] [PAD] …``, exactly ``max_len`` ids;
    tokens that do not fit are cut off before ``[SEP]``. ``decode`` drops the special tokens and returns
    tags. ``mask_id`` is the id masked tokens become (1, as in the original); ``source`` says in words
    where the vocabulary came from.
    """

    name: str = ""

    def __init__(self, *, max_len: int, source: str, pad_id: int, cls_id: int, sep_id: int, unk_id: int,
                 mask_id: int = MASK_ID) -> None:
        if max_len < 3:
            raise ValueError(f"max_len must leave room for [CLS], one token and [SEP]; got {max_len}")
        self.max_len = max_len
        self.source = source
        self.pad_id, self.cls_id, self.sep_id, self.unk_id, self.mask_id = pad_id, cls_id, sep_id, unk_id, mask_id

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of token ids (the size of a model's token embedding)."""

    @property
    def special_ids(self) -> frozenset[int]:
        """Ids that are never real tags: [PAD], [CLS], [SEP], [UNK] and the mask id."""
        return frozenset({self.pad_id, self.cls_id, self.sep_id, self.unk_id, self.mask_id})

    @abstractmethod
    def tokens(self, tags: Sequence[str]) -> list[int]:
        """Token ids of ``tags`` alone: no special tokens, no truncation."""

    @abstractmethod
    def decode(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        """The tags of a sequence of ids (special tokens and padding are ignored)."""

    def encode(self, tags: Sequence[str]) -> list[int]:
        """``[CLS] tokens… [SEP] [PAD]…``: exactly ``max_len`` ids."""
        body = self.tokens(tags)[: self.max_len - 2]
        ids = [self.cls_id, *body, self.sep_id]
        return ids + [self.pad_id] * (self.max_len - len(ids))

    def state(self) -> dict[str, Any]:
        """What a checkpoint stores (JSON) to rebuild this tokenizer with :func:`restore_tokenizer`."""
        return {"name": self.name, "max_len": self.max_len, "source": self.source}

    def masked_prompt(self) -> torch.Tensor:
        """``[CLS] [mask]… [SEP]`` (``max_len`` ids): the tag input of a model when no tag may be seen."""
        return masked_prompt(self.max_len, self.cls_id, self.sep_id, self.mask_id)

    def predicted_tags(self, token_pred: torch.Tensor) -> list[list[str]]:
        """The tag set (unique, in order) each row of ``token_pred`` [N, T] predicts at the masked prompt's positions.

        Only the positions the masked prompt hides are read (not [CLS] and [SEP]); ``decode`` turns the ids
        into known tags (for WordPiece, the dataset's tags found in the pieces).
        """
        prompt = self.masked_prompt().to(token_pred.device)
        ids = torch.where(prompt == self.mask_id, token_pred, self.pad_id)
        return [list(dict.fromkeys(self.decode(row))) for row in ids]

    def encode_batch(self, batch: Sequence[Sequence[str]]) -> torch.Tensor:
        """Encode several tag lists: a LongTensor [B, max_len]."""
        return torch.tensor([self.encode(tags) for tags in batch], dtype=torch.long).reshape(len(batch), self.max_len)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size}, max_len={self.max_len}, source={self.source!r})"
