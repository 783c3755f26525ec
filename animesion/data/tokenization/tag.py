"""The tag-level tokenizer of the original: each whole tag is one token."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..vocab import CLS_ID, PAD_ID, SEP_ID, UNK_ID, Vocabulary
from .base import TagTokenizer


class WholeTagTokenizer(TagTokenizer):
    """One token per tag, from a :class:`Vocabulary` (``[PAD] [UNUSED] [CLS] [SEP] [UNK]`` are ids 0–4).

    A tag missing from the vocabulary becomes ``[UNK]``.
    """

    name = "tag"

    def __init__(self, vocab: Vocabulary, max_len: int, source: str = "") -> None:
        super().__init__(max_len=max_len, source=source, pad_id=PAD_ID, cls_id=CLS_ID, sep_id=SEP_ID, unk_id=UNK_ID)
        self.vocab = vocab

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def tokens(self, tags: Sequence[str]) -> list[int]:
        return [self.vocab.id(tag) for tag in tags]

    def decode(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        ids = ids.tolist() if isinstance(ids, torch.Tensor) else ids
        special = self.special_ids
        return [self.vocab.idx2word[i] for i in ids if i not in special and 0 <= i < len(self.vocab)]
