"""Vision+tag (ViLT-style) models: not built yet; the flag exists for compatibility with the original."""

from __future__ import annotations

from torch import nn

from ..config.train import TrainConfig
from ..errors import NotImplementedYetError


def build_multimodal(trunk: nn.Module, config: TrainConfig, num_classes: int, vocab_size: int | None) -> nn.Module:
    """Refuse with one sentence until the vision+tag models land (issue 5)."""
    raise NotImplementedYetError("multimodal=True (vision+tag models) is not implemented yet; set multimodal=False.")
