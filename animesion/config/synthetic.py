"""Generation parameters of the embedded synthetic dataset."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .base import ConfigBase, param


@dataclass
class SyntheticConfig(ConfigBase):
    """How the synthetic anime-character dataset is drawn; the same values give the same files."""

    no_classes: int = param(24, "number of characters")
    images_per_class: int = param(60, "pictures drawn of each character")
    image_size: int = param(96, "side of the square pictures in pixels")
    seed: int = param(0, "seed for the cast and every picture")
    val_percent: float = param(0.15, "share of each character's pictures in the val split")
    test_percent: float = param(0.15, "share of each character's pictures in the test split")

    def validate(self) -> None:
        if self.no_classes < 2 or self.images_per_class < 3 or self.image_size < 16:
            raise ConfigError("SyntheticConfig: needs no_classes ≥ 2, images_per_class ≥ 3 and image_size ≥ 16.")
        if not (0 < self.val_percent < 1 and 0 < self.test_percent < 1 and self.val_percent + self.test_percent < 1):
            raise ConfigError("SyntheticConfig: val_percent and test_percent must be in (0, 1) with a sum below 1.")
