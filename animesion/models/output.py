"""The one structure every model returns."""

from __future__ import annotations

from typing import TypedDict

from torch import Tensor, nn


class ModelOutput(TypedDict):
    """What ``model(images)`` returns, for every architecture.

    ``logits``: [B, num_classes] class scores.
    ``embedding``: [B, D] the features the classifier reads (pooled CNN features, the class token, or the
    IFA head's aggregate), before any normalisation: what enrolment and retrieval compare.
    ``token_logits``: [B, T, vocab] masked-tag predictions of multimodal models, else None.
    ``layer_cls``: [B, L, D] class token of every block (ViTs with the IFA head), else None.
    ``tag_logits``: [B, tags] the multi-label tag head's scores before the sigmoid (``num_tags`` > 0), else None.
    """

    logits: Tensor
    embedding: Tensor
    token_logits: Tensor | None
    layer_cls: Tensor | None
    tag_logits: Tensor | None


def model_output(logits: Tensor, embedding: Tensor, token_logits: Tensor | None = None,
                 layer_cls: Tensor | None = None, tag_logits: Tensor | None = None) -> ModelOutput:
    """Build a :class:`ModelOutput`; absent extras are None so every model returns the same keys."""
    return ModelOutput(logits=logits, embedding=embedding, token_logits=token_logits, layer_cls=layer_cls,
                       tag_logits=tag_logits)


def tag_head_of(dim: int, num_tags: int) -> nn.Linear | None:
    """The multi-label tag head of every family: one linear layer from the embedding [B, dim] to the tags'
    logits [B, num_tags] (the WD taggers' head); None when ``num_tags`` is 0."""
    return nn.Linear(dim, num_tags) if num_tags else None


def tags_of(tag_head: nn.Module | None, embedding: Tensor) -> Tensor | None:
    """The tag head's logits [B, tags] for the embedding [B, D]; None for a model without a tag head."""
    return None if tag_head is None else tag_head(embedding)
