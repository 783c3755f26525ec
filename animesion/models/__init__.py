"""Model zoo: one factory, a registry of architectures, one output structure."""

from __future__ import annotations

from torch import nn

from ..config.train import TrainConfig
from .output import ModelOutput, model_output
from .registry import MODELS


def create_model(config: TrainConfig, num_classes: int, vocab_size: int | None = None) -> nn.Module:
    """Build ``config.model_name`` for ``num_classes`` classes; every model returns a :class:`ModelOutput`."""
    return MODELS.get(config.model_name)(config, num_classes, vocab_size)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["MODELS", "ModelOutput", "count_parameters", "create_model", "model_output"]
