"""SimCLR (Chen et al., 2020) on pictures without labels: two views of every picture, pulled together
against the other pictures of the batch.

A network trained on a dataset's few characters learns what tells *those* characters apart, and on
characters it never saw its features are no better than random ones (``benchmarks/new_characters.md``).
Pictures without labels are plentiful: a face's two views, cropped and shifted as another source would draw
it (:class:`~animesion.data.source_shift.SourceShift`, colours kept), must map to one point and away from
thousands of other faces of many characters, which is closer to what enrolment needs.

The views keep the hue: hair and eye colours are what a character keeps across artists (a plain SimCLR's
colour jitter would teach the network to ignore them). The backbone is written without its classifier,
as a safetensors file that 03 starts from (its ``backbone`` parameter).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import Dataset

from ..config.pretrain import PretrainConfig
from .network import headless
from .pictures import Pictures

PROJECTION = 128  # width of the space NT-Xent compares in; the backbone's pooled features [B, D] come before it


def view_transform(image_size: int) -> Any:
    """One random view: a crop of 30–100% of the area, a flip, another source's framing, resolution, lines,
    compression and tone (hue kept), a little saturation and brightness jitter, and now and then no colour."""
    from timm.data.transforms import RandomResizedCropAndInterpolation
    from torchvision import transforms as T

    from ..data.source_shift import SourceShift
    from ..data.transforms import MEAN, STD

    return T.Compose([RandomResizedCropAndInterpolation(image_size, scale=(0.3, 1.0), interpolation="bilinear"),
                      T.RandomHorizontalFlip(), SourceShift(),
                      T.RandomApply([T.ColorJitter(0.3, 0.3, 0.3, 0.0)], p=0.5), T.RandomGrayscale(0.1),
                      T.ToTensor(), T.Normalize(MEAN, STD)])


class TwoViews:
    """A picture → two independent draws of ``view`` of it, stacked [2, 3, S, S]."""

    def __init__(self, view: Callable[[Image.Image], Tensor]) -> None:
        self.view = view

    def __call__(self, image: Image.Image) -> Tensor:
        return torch.stack([self.view(image), self.view(image)])


class SimCLR(nn.Module):
    """The SimCLR pretext: the backbone (a torchvision CNN without its classifier) and SimCLR's projection head;
    its loss is NT-Xent between a batch's two views of every picture."""

    def __init__(self, config: PretrainConfig) -> None:
        super().__init__()
        self.backbone, width = headless(config.model_name, config.backbone)
        self.projection = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
                                        nn.Linear(width, PROJECTION))
        self.image_size, self.temperature = config.image_size, config.temperature

    def forward(self, images: Tensor) -> Tensor:
        """images [B, 3, S, S] → projections [B, PROJECTION]."""
        return self.projection(self.backbone(images))

    def dataset(self, files: list[Path]) -> Dataset:
        return Pictures(files, TwoViews(view_transform(self.image_size)))

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        device = next(self.parameters()).device
        first, second = (batch["image"][:, k].to(device).contiguous(memory_format=torch.channels_last) for k in (0, 1))
        return nt_xent(self(first), self(second), self.temperature)

    def start_epoch(self, epoch: int, files: list[Path], progress: bool = False) -> None:
        """Nothing to prepare: every epoch draws new views."""


def nt_xent(first: Tensor, second: Tensor, temperature: float) -> Tensor:
    """SimCLR's NT-Xent: each of the 2B views [B, P] must find its partner among the other 2B − 1 views."""
    z = F.normalize(torch.cat([first, second]).float(), dim=-1)  # [2B, P]
    n = len(first)
    similarity = (z @ z.T / temperature).fill_diagonal_(float("-inf"))  # a view is not its own partner
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(similarity, partner)


__all__ = ["SimCLR", "TwoViews", "nt_xent", "view_transform"]
