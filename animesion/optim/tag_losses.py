"""The losses of a multi-label tag head (``tag_loss``): registered builders of ``loss(logits, targets)``.

Both take the tag head's logits [B, tags] and the multi-hot (or, under mixup, blended) targets [B, tags],
and average over the batch. ``bce``: binary cross-entropy per tag, averaged over tags, as the WD taggers
train. ``asl``: timm's asymmetric loss (Ridnik et al., 2021), which down-weights the many easy negatives of
a large tag vocabulary, averaged over tags (timm's ``reduction="mean"``) to sit on BCE's scale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..registry import Registry

TagLoss = Callable[[Any, Any], Any]  # (logits [B, tags], targets [B, tags]) -> loss []; torch is imported when built
TAG_LOSSES: Registry[Callable[[], TagLoss]] = Registry("tag loss")


@TAG_LOSSES.register("bce")
def _bce() -> TagLoss:
    from torch.nn.functional import binary_cross_entropy_with_logits

    return binary_cross_entropy_with_logits


@TAG_LOSSES.register("asl")
def _asl() -> TagLoss:
    from timm.loss import AsymmetricLossMultiLabel

    return AsymmetricLossMultiLabel(gamma_neg=4, gamma_pos=1, clip=0.05, reduction="mean")  # the paper's defaults


__all__ = ["TAG_LOSSES", "TagLoss"]
