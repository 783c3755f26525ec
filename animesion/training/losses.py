"""The training objective, assembled from the config: cross-entropy plus optional terms."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ..config.train import TrainConfig
from ..models.ifa import exclusion_loss
from ..models.output import ModelOutput


class TrainingLoss:
    """``loss = CE(logits, labels) − exclusion_weight · exclusion`` (the exclusion term only with IFA).

    Returns the total and each term, so the history can show them apart.
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config

    def __call__(self, output: ModelOutput, labels: Tensor) -> dict[str, Tensor]:
        terms = {"ce": F.cross_entropy(output["logits"].float(), labels)}
        total = terms["ce"]
        if self.config.exclusion_loss and output["layer_cls"] is not None:
            c = self.config
            terms["exclusion"] = exclusion_loss(output["layer_cls"].float(), c.temperature, c.exc_layers_dist)
            total = total - c.exclusion_weight * terms["exclusion"]
        return {"loss": total, **terms}


__all__ = ["TrainingLoss"]
