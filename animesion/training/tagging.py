"""Masked tag prediction during training: the masker plus the tokenizer that makes the log readable."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from ..data.masking import MaskedTokens, TagMasker
from ..data.tokenization.base import TagTokenizer


@dataclass
class TagTraining:
    """What the training loop needs for masked tag prediction."""

    masker: TagMasker
    tokenizer: TagTokenizer

    def samples(self, token_logits: Tensor, masked: MaskedTokens, tokens: Tensor, n: int = 2) -> list[str]:
        """Up to ``n`` lines "predicted [...] | true [...] | masked k/m" for the first samples of a batch.

        The prediction is the input with every masked position filled by the model's most likely token.
        token_logits [B, T, vocab], tokens [B, T] (the true ids).
        """
        filled = masked.inputs.where(~masked.masked, token_logits.argmax(dim=-1))  # [B, T]
        real = tokens != self.tokenizer.pad_id
        lines = []
        for i in range(min(n, tokens.shape[0])):
            lines.append(f"predicted {self.tokenizer.decode(filled[i].tolist())} | true "
                         f"{self.tokenizer.decode(tokens[i].tolist())} | masked {int(masked.masked[i].sum())}/"
                         f"{int(real[i].sum()) - 2}")
        return lines
