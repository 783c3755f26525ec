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

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from ..config.pretrain import PretrainConfig
from ..data.dataset import collate_skip_bad
from ..data.images import ImageLoadError, load_rgb, picture_files
from ..training.sampling import EpochShuffle, SeededAugmentation

log = logging.getLogger("animesion")
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


class TwoViews(Dataset):
    """Picture ``i`` → ``{"views": [2, 3, S, S]}``; None (and a warning naming it) when it cannot be read."""

    def __init__(self, files: list[Path], image_size: int) -> None:
        self.files, self.view = files, view_transform(image_size)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor] | None:
        try:
            image = load_rgb(self.files[index])
        except ImageLoadError as err:
            log.warning("skipped: %s", err)
            return None
        return {"views": torch.stack([self.view(image), self.view(image)])}


class Contrastive(nn.Module):
    """The backbone (a torchvision CNN without its classifier) and SimCLR's projection head."""

    def __init__(self, model_name: str, backbone: str = "") -> None:
        super().__init__()
        import torchvision

        from ..models.backbones import load_backbone
        from ..models.catalog import ARCHITECTURES

        arch = ARCHITECTURES.get(model_name)
        self.backbone = getattr(torchvision.models, arch.arch)(weights=None)
        if backbone:  # continue an earlier pretraining; the projection head starts anew (files hold none)
            load_backbone(self.backbone, backbone, arch.head)
        head = getattr(self.backbone, arch.head)
        width = (head if isinstance(head, nn.Linear) else head[-1]).in_features
        setattr(self.backbone, arch.head, nn.Identity())  # pooled features [B, D]
        self.projection = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(inplace=True),
                                        nn.Linear(width, PROJECTION))

    def forward(self, images: Tensor) -> Tensor:
        """images [B, 3, S, S] → projections [B, PROJECTION]."""
        return self.projection(self.backbone(images))

    def backbone_state(self) -> dict[str, Tensor]:
        """The backbone's weights under torchvision's names, without the classifier (which 03 makes anew)."""
        return {k: v.detach().cpu().contiguous() for k, v in self.backbone.state_dict().items()}


def nt_xent(first: Tensor, second: Tensor, temperature: float) -> Tensor:
    """SimCLR's NT-Xent: each of the 2B views [B, P] must find its partner among the other 2B − 1 views."""
    z = F.normalize(torch.cat([first, second]).float(), dim=-1)  # [2B, P]
    n = len(first)
    similarity = (z @ z.T / temperature).fill_diagonal_(float("-inf"))  # a view is not its own partner
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(n)]).to(z.device)
    return F.cross_entropy(similarity, partner)


@dataclass
class PretrainResult:
    """Where the backbone went, the loss of each epoch, how many pictures and the seconds it took."""

    path: Path
    losses: list[float]
    images: int
    seconds: float


def pretrain(config: PretrainConfig, progress: bool = True) -> PretrainResult:
    """SimCLR on ``config.images_path``; the backbone goes to ``config.output_path`` (safetensors, fp16)."""
    from tqdm.auto import tqdm

    from ..errors import ConfigError
    from ..optim.schedules import lr_factor
    from ..paths import resolve_path
    from .weights import backbone_header, save_backbone

    files = picture_files(resolve_path(config.images_path), recursive=True)[:config.max_images or None]
    if len(files) < config.batch_size:
        raise ConfigError(f"'{config.images_path}' has {len(files)} pictures; SimCLR needs at least a batch "
                          f"({config.batch_size}).")
    torch.manual_seed(config.seed)
    model = Contrastive(config.model_name, config.backbone).to(memory_format=torch.channels_last)
    start = backbone_header(config.backbone) if config.backbone else None  # read now: the file may go meanwhile
    loader = DataLoader(SeededAugmentation(TwoViews(files, config.image_size)), batch_size=config.batch_size,
                        sampler=EpochShuffle(len(files), config.seed), drop_last=True,
                        num_workers=config.num_workers, collate_fn=collate_skip_bad,
                        persistent_workers=config.num_workers > 0)
    steps = config.no_epochs * len(loader)
    warmup = max(1, len(loader) // 10)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor("warmupCosine", total_steps=steps,
                                                                      warmup_steps=warmup))
    began, losses = time.perf_counter(), []
    bar = tqdm(total=steps, desc="SimCLR", disable=not progress)
    for epoch in range(config.no_epochs):
        loader.sampler.set_epoch(epoch)
        total, count = 0.0, 0
        for batch in loader:
            if batch is None:
                continue
            first, second = (batch["views"][:, k].contiguous(memory_format=torch.channels_last) for k in (0, 1))
            loss = nt_xent(model(first), model(second), config.temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            value = loss.item()
            total, count = total + value, count + 1
            bar.update()
            bar.set_postfix(epoch=epoch + 1, loss=f"{value:.3f}")
        losses.append(total / max(count, 1))
        log.info("SimCLR epoch %d/%d: loss %.3f", epoch + 1, config.no_epochs, losses[-1])
    bar.close()
    seconds = time.perf_counter() - began
    path = save_backbone(resolve_path(config.output_path), model.backbone_state(), config, len(files), losses, seconds,
                         start)
    return PretrainResult(path, losses, len(files), seconds)


__all__ = ["Contrastive", "PretrainResult", "TwoViews", "nt_xent", "pretrain", "view_transform"]
