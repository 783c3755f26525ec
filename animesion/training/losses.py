"""The training objective, assembled from the config: cross-entropy plus optional terms."""

from __future__ import annotations

import torch.nn.functional as F
from timm.loss import SoftTargetCrossEntropy
from torch import Tensor

from ..config.train import TrainConfig
from ..data.tag_tokens import IGNORE
from ..models.ifa import exclusion_loss
from ..models.output import ModelOutput


def token_cross_entropy(token_logits: Tensor, token_labels: Tensor) -> Tensor:
    """Mean cross-entropy over the masked tag positions (labels ≠ -100); 0 when nothing is masked.

    token_logits [B, T, vocab], token_labels [B, T]. Summing and dividing by the clamped count keeps a
    batch without masked tokens (the sigmoid schedule's warm-up) at 0 instead of NaN.
    """
    total = F.cross_entropy(token_logits.flatten(0, 1), token_labels.flatten(), reduction="sum")
    return total / (token_labels != IGNORE).sum().clamp(min=1)


class TrainingLoss:
    """``loss = CE(logits, targets) + CE(token_logits, token_labels) − exclusion_weight · exclusion``.

    The class term is cross-entropy with ``smoothing`` against labels [B], or timm's soft-target
    cross-entropy against the soft targets [B, classes] of mixup/cutmix (which carry the smoothing
    themselves). The token term is there when the batch's tags were masked (``mask_schedule``), the
    exclusion term only with IFA. Returns the total and each term, so the history can show them apart.
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.soft = SoftTargetCrossEntropy()

    def __call__(self, output: ModelOutput, targets: Tensor, token_labels: Tensor | None = None) -> dict[str, Tensor]:
        logits = output["logits"].float()
        if targets.ndim == 2:
            terms = {"ce": self.soft(logits, targets)}
        else:
            terms = {"ce": F.cross_entropy(logits, targets, label_smoothing=self.config.smoothing)}
        total = terms["ce"]
        if token_labels is not None and output["token_logits"] is not None:
            terms["tokens"] = token_cross_entropy(output["token_logits"].float(), token_labels)
            total = total + terms["tokens"]
        if self.config.exclusion_loss and output["layer_cls"] is not None:
            c = self.config
            terms["exclusion"] = exclusion_loss(output["layer_cls"].float(), c.temperature, c.exc_layers_dist)
            total = total - c.exclusion_weight * terms["exclusion"]
        return {"loss": total, **terms}


__all__ = ["TrainingLoss", "token_cross_entropy"]
