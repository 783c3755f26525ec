"""The model registry: ``model_name`` → builder ``(config, num_classes, vocab_size) -> nn.Module``."""

from __future__ import annotations

from ..registry import Registry

MODELS: Registry = Registry("model_name")

# The builders register themselves when their modules are imported.
from . import cnn, vit  # noqa: E402,F401
