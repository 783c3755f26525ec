"""Colour beside the learned embedding: what tells characters apart when the network has not learned them.

A network trained on a few dozen characters learns what tells *those* characters apart; on characters it
never trained on, and on pictures from another source, its embedding names them no better than a colour
histogram (``python -m benchmarks.open_set --only folds``: 44% cross-source against 62% for the
histogram). Hair and eye colours survive a change of artist, framing and compression; a colour histogram of
the centre of the picture keeps them and drops most of the background.

:class:`ColourFeature` is that histogram, computed from the model's own input batch, so every path that
embeds a picture (training's calibration, 05, the widgets, the ONNX fast path) computes the same one. The
open set (:mod:`.open_set`, :func:`~.open_set.joint_features`) joins it to the unit embedding at a ``weight``
and centres and whitens the two together: every prototype, trained or enrolled, and every threshold lives in
that one space. (Calibrations written before it joined colour to the projected embedding, for enrolled
characters only.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..data.transforms import MEAN, STD

BINS = (8, 4, 4)  # hue × saturation × value bins
CENTRE = 0.85  # side of the centred square the histogram counts, as a share of the picture's side


@dataclass(frozen=True)
class ColourFeature:
    """The HSV histogram of the centre of each picture, square-rooted (so that cosine compares histograms as
    the Hellinger distance does), weighted by ``weight`` against the unit-length learned embedding."""

    weight: float
    bins: tuple[int, int, int] = BINS
    centre: float = CENTRE

    @property
    def dims(self) -> int:
        return math.prod(self.bins)

    def __call__(self, batch: Tensor) -> Tensor:
        """Histograms [B, H] (unit length) of a model input batch [B, 3, S, S] (normalised by ``MEAN``/``STD``)."""
        mean, std = (batch.new_tensor(v).view(1, 3, 1, 1) for v in (MEAN, STD))
        rgb = (batch.float() * std + mean).clamp(0, 1)
        side = rgb.shape[-1]
        margin = round(side * (1 - self.centre) / 2)
        rgb = rgb[..., margin:side - margin, margin:side - margin]
        h, s, v = rgb_to_hsv(rgb).unbind(dim=1)  # each [B, s, s] in [0, 1]
        bins = [(x * n).long().clamp(max=n - 1) for x, n in zip((h, s, v), self.bins)]
        index = (bins[0] * self.bins[1] + bins[1]) * self.bins[2] + bins[2]  # [B, s, s]
        counts = torch.zeros(len(batch), self.dims, device=batch.device).scatter_add_(
            1, index.flatten(1), torch.ones_like(index.flatten(1), dtype=torch.float))
        return (counts / counts.sum(dim=1, keepdim=True)).sqrt()

    def to_meta(self) -> dict[str, object]:
        return {"weight": self.weight, "bins": list(self.bins), "centre": self.centre}

    @classmethod
    def from_meta(cls, meta: dict) -> ColourFeature:
        return cls(float(meta["weight"]), tuple(int(b) for b in meta["bins"]), float(meta["centre"]))


def rgb_to_hsv(rgb: Tensor) -> Tensor:
    """RGB [B, 3, H, W] in [0, 1] → HSV [B, 3, H, W] in [0, 1] (hue 0 = red, as PIL's ``convert("HSV")``)."""
    high, argmax = rgb.max(dim=1)
    chroma = high - rgb.min(dim=1).values
    r, g, b = rgb.unbind(dim=1)
    safe = chroma.clamp(min=1e-8)
    hue = torch.stack([((g - b) / safe) % 6, (b - r) / safe + 2, (r - g) / safe + 4], dim=1)
    hue = hue.gather(1, argmax.unsqueeze(1)).squeeze(1) / 6  # the sector of the largest channel
    hue = torch.where(chroma > 0, hue, torch.zeros_like(hue))
    saturation = torch.where(high > 0, chroma / high.clamp(min=1e-8), torch.zeros_like(high))
    return torch.stack([hue, saturation, high], dim=1)


__all__ = ["BINS", "CENTRE", "ColourFeature", "rgb_to_hsv"]
