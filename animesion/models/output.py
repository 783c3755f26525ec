"""The one structure every model returns."""

from __future__ import annotations

from typing import TypedDict

from torch import Tensor


class ModelOutput(TypedDict):
    """What ``model(images)`` returns, for every architecture.

    ``logits``: [B, num_classes] class scores.
    ``embedding``: [B, D] the features the classifier reads (pooled CNN features, the class token, or the
    IFA head's aggregate), before any normalisation: what enrolment and retrieval compare.
    ``token_logits``: [B, T, vocab] masked-tag predictions of multimodal models, else None.
    ``layer_cls``: [B, L, D] class token of every block (ViTs with the IFA head), else None.
    """

    logits: Tensor
    embedding: Tensor
    token_logits: Tensor | None
    layer_cls: Tensor | None


def model_output(logits: Tensor, embedding: Tensor, token_logits: Tensor | None = None,
                 layer_cls: Tensor | None = None) -> ModelOutput:
    """Build a :class:`ModelOutput`; absent extras are None so every model returns the same keys."""
    return ModelOutput(logits=logits, embedding=embedding, token_logits=token_logits, layer_cls=layer_cls)
