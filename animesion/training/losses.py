"""The training objective: a weighted sum of registered loss terms, each one on when the run's config asks for it.

A term is a few lines in one place: register a :class:`LossTerm` in :data:`LOSS_TERMS` with the config test
that switches it on, the function that computes it from the model output and the batch's :class:`Targets`,
and its weight. The history shows every active term apart (``train_loss`` is their weighted sum).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch.nn.functional as F
from timm.loss import SoftTargetCrossEntropy
from torch import Tensor

from ..config.train import TrainConfig
from ..data.tag_tokens import IGNORE
from ..models.ifa import exclusion_loss
from ..models.output import ModelOutput
from ..optim.tag_losses import TAG_LOSSES, TagLoss
from ..registry import Registry


@dataclass
class Targets:
    """What one batch is trained towards. ``labels`` [B]: the true classes. ``classes``: the class targets,
    the labels [B] or, after mixup/cutmix, soft targets [B, classes]. ``token_labels`` [B, T]: the ids of the
    masked tag tokens (-100 elsewhere), when the batch's tags were masked. ``tags`` [B, tags]: the tag head's
    multi-hot targets (blended under mixup/cutmix)."""

    labels: Tensor
    classes: Tensor
    token_labels: Tensor | None = None
    tags: Tensor | None = None


@dataclass(frozen=True)
class LossTerm:
    """One term of the objective: ``active(config)`` says whether a run has it, ``compute(output, targets,
    config)`` gives its value for a batch (None when the batch has nothing for it), ``weight(config)`` its
    factor in the total (negative for a term that is maximised)."""

    active: Callable[[TrainConfig], bool]
    compute: Callable[[ModelOutput, Targets, TrainConfig], Tensor | None]
    weight: Callable[[TrainConfig], float] = lambda config: 1.0


LOSS_TERMS: Registry[LossTerm] = Registry("loss term")
_SOFT = SoftTargetCrossEntropy()


def token_cross_entropy(token_logits: Tensor, token_labels: Tensor) -> Tensor:
    """Mean cross-entropy over the masked tag positions (labels ≠ -100); 0 when nothing is masked.

    token_logits [B, T, vocab], token_labels [B, T]. Summing and dividing by the clamped count keeps a
    batch without masked tokens (the sigmoid schedule's warm-up) at 0 instead of NaN.
    """
    total = F.cross_entropy(token_logits.flatten(0, 1), token_labels.flatten(), reduction="sum")
    return total / (token_labels != IGNORE).sum().clamp(min=1)


def _class_cross_entropy(output: ModelOutput, targets: Targets, config: TrainConfig) -> Tensor:
    """Cross-entropy with ``smoothing`` against labels [B], or timm's soft-target cross-entropy against
    mixup's soft targets [B, classes] (which carry the smoothing themselves)."""
    logits = output["logits"].float()
    if targets.classes.ndim == 2:
        return _SOFT(logits, targets.classes)
    return F.cross_entropy(logits, targets.classes, label_smoothing=config.smoothing)


def _masked_tags(output: ModelOutput, targets: Targets, config: TrainConfig) -> Tensor | None:
    if targets.token_labels is None or output["token_logits"] is None:
        return None
    return token_cross_entropy(output["token_logits"].float(), targets.token_labels)


def _tag_head(output: ModelOutput, targets: Targets, config: TrainConfig) -> Tensor | None:
    """The tag head's ``tag_loss`` (BCE or asymmetric) against the multi-hot targets."""
    if targets.tags is None or output["tag_logits"] is None:
        return None
    return _tag_loss(config.tag_loss)(output["tag_logits"].float(), targets.tags.to(output["tag_logits"].device))


@cache
def _tag_loss(name: str) -> TagLoss:
    return TAG_LOSSES.get(name)()


def _exclusion(output: ModelOutput, targets: Targets, config: TrainConfig) -> Tensor | None:
    if output["layer_cls"] is None:
        return None
    return exclusion_loss(output["layer_cls"].float(), config.temperature, config.exc_layers_dist)


LOSS_TERMS.register("ce")(LossTerm(lambda config: True, _class_cross_entropy))
LOSS_TERMS.register("tokens")(LossTerm(lambda config: config.mask_schedule is not None, _masked_tags))
LOSS_TERMS.register("tags")(LossTerm(lambda config: config.tag_head, _tag_head, lambda config: config.tag_loss_weight))
LOSS_TERMS.register("exclusion")(LossTerm(lambda config: config.exclusion_loss, _exclusion,
                                          lambda config: -config.exclusion_weight))


class TrainingLoss:
    """The sum of the config's active terms: ``loss = Σ weight · term``, returned with each term apart."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.terms = {name: LOSS_TERMS.get(name) for name in LOSS_TERMS.names() if LOSS_TERMS.get(name).active(config)}

    def __call__(self, output: ModelOutput, targets: Targets) -> dict[str, Tensor]:
        values = {name: term.compute(output, targets, self.config) for name, term in self.terms.items()}
        values = {name: value for name, value in values.items() if value is not None}
        total = None
        for name, value in values.items():
            weight = self.terms[name].weight(self.config)
            part = value if weight == 1.0 else weight * value
            total = part if total is None else total + part
        return {"loss": total, **values}


__all__ = ["LOSS_TERMS", "LossTerm", "Targets", "TrainingLoss", "token_cross_entropy"]
