"""How the embedded synthetic set is drawn: a strict spec, saved as the dataset's manifest."""

from __future__ import annotations

from dataclasses import dataclass

from ...strict import Strict, param

LEGACY_NAMES = {"image_size": "picture_size"}  # manifests written before the rename


@dataclass
class SyntheticConfig(Strict):
    """How the synthetic anime-character dataset is drawn; the same values give the same files."""

    no_classes: int = param(24, "number of characters")
    images_per_class: int = param(60, "pictures drawn of each character")
    picture_size: int = param(96, "side of the square pictures in pixels")
    seed: int = param(0, "seed for the cast and every picture")
    val_percent: float = param(0.15, "share of each character's pictures in the val split")
    test_percent: float = param(0.15, "share of each character's pictures in the test split")

    def validate(self) -> None:
        if self.no_classes < 2 or self.images_per_class < 3 or self.picture_size < 16:
            self.fail("needs no_classes ≥ 2, images_per_class ≥ 3 and picture_size ≥ 16.")
        if not (0 < self.val_percent < 1 and 0 < self.test_percent < 1 and self.val_percent + self.test_percent < 1):
            self.fail("val_percent and test_percent must be in (0, 1) with a sum below 1.")

    @classmethod
    def from_manifest(cls, manifest: dict) -> SyntheticConfig:
        """The spec a dataset's manifest records (older manifests name ``picture_size`` ``image_size``)."""
        values = {LEGACY_NAMES.get(k, k): v for k, v in manifest.items()}
        return cls(**{k: v for k, v in values.items() if k in cls.field_names()})
