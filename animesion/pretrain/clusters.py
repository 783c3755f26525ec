"""Pseudo-characters (DeepCluster, Caron et al., 2018): the backbone learns to name each picture's k-means group.

SimCLR teaches a backbone to tell one *picture* from every other, so two pictures of one character are pushed
apart as far as two of different characters. Grouping the unlabelled faces by what the backbone already sees,
joined to their colours (:class:`~animesion.prediction.colour.ColourFeature`: hair and eye colours are what a
character keeps across artists), puts pictures of one character in one group far more often than pictures of
two. Naming each picture's group from a view shifted to another source (SimCLR's views) then pulls a
character's pictures together, which is what enrolment needs. The groups are drawn again from the improved
backbone every ``recluster_every`` epochs, with a new classifier (the old one's classes mean nothing then).

On the 5 folds of holo20, 9 epochs of this after the shipped SimCLR backbone raised that backbone's own ceiling on
characters it never saw from 64.9 to 74.3% (61.1 to 67.1% across sources), but once 03 fine-tuned it on 10
characters, the trained network's ceiling was where SimCLR's start left it (README: Pretraining), so the package
does not ship it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from ..config.pretrain import PretrainConfig
from ..data.dataset import collate_skip_bad
from ..data.transforms import eval_transform
from ..prediction.colour import ColourFeature
from .network import headless
from .pictures import Pictures
from .simclr import view_transform

log = logging.getLogger("animesion")
ITERATIONS = 30  # k-means rounds: the groups of 20,000 faces in 1,000 clusters stop moving well before
SMOOTHING = 0.1  # label smoothing: a group is a guess, not a label
UNGROUPED = -1  # the group of a picture that could not be read (the loss ignores it)


def spherical_kmeans(x: Tensor, k: int, seed: int, iterations: int = ITERATIONS) -> Tensor:
    """The group [N] of each unit vector of ``x`` [N, D] among ``k`` centres of cosine k-means, started from ``k``
    vectors drawn with ``seed``; a centre left empty takes a drawn vector again."""
    generator = torch.Generator().manual_seed(seed)
    centres = x[torch.randperm(len(x), generator=generator)[:k]].clone()  # [k, D]
    for _ in range(iterations):
        groups = (x @ centres.T).argmax(dim=1)
        centres = F.normalize(torch.zeros_like(centres).index_add_(0, groups, x), dim=-1)
        empty = torch.bincount(groups, minlength=k) == 0
        centres[empty] = x[torch.randint(len(x), (int(empty.sum()),), generator=generator)]
    return (x @ centres.T).argmax(dim=1)


class Clusters(nn.Module):
    """The pseudo-character pretext: the backbone and a linear classifier over the current groups (``groups``
    [N], one per picture, :data:`UNGROUPED` for an unreadable one)."""

    def __init__(self, config: PretrainConfig) -> None:
        super().__init__()
        self.backbone, width = headless(config.model_name, config.backbone)
        self.config = config
        self.classifier = nn.Linear(width, config.clusters)
        self.groups = torch.empty(0, dtype=torch.long)

    def dataset(self, files: list[Path]) -> Dataset:
        return Pictures(files, view_transform(self.config.image_size))

    def loss(self, batch: dict[str, Tensor]) -> Tensor:
        device = self.classifier.weight.device
        images = batch["image"].to(device).contiguous(memory_format=torch.channels_last)
        logits = self.classifier(self.backbone(images))  # [B, K]
        return F.cross_entropy(logits, self.groups[batch["index"]].to(device), ignore_index=UNGROUPED,
                               label_smoothing=SMOOTHING)

    def start_epoch(self, epoch: int, files: list[Path], progress: bool = False) -> None:
        """Draw the groups at the first epoch and every ``recluster_every`` epochs after, with a new classifier."""
        every = self.config.recluster_every
        if epoch == 0 or (every and epoch % every == 0):
            self.groups = self.draw_groups(files, self.config.seed + epoch, progress)
            self.classifier.reset_parameters()

    @torch.no_grad()
    def draw_groups(self, files: list[Path], seed: int, progress: bool = False) -> Tensor:
        """k-means of every picture's centred embedding joined to its colour histogram → groups [N]."""
        features, indices = self.features(files, progress)
        k = max(1, min(self.config.clusters, len(indices) // 2))
        found = spherical_kmeans(features, k, seed)
        groups = torch.full((len(files),), UNGROUPED, dtype=torch.long)
        groups[indices] = found
        sizes = torch.bincount(found, minlength=k)
        log.info("clusters: %d pictures in %d groups (median %d, largest %d)", len(indices), int((sizes > 0).sum()),
                 int(sizes.float().median()), int(sizes.max()))
        return groups

    def features(self, files: list[Path], progress: bool = False) -> tuple[Tensor, Tensor]:
        """Unit vectors [N, D + H] (the centred embedding and the colour histogram, equally weighted) of the
        readable pictures, and their indices [N] into ``files``."""
        from tqdm.auto import tqdm

        colour = ColourFeature(1.0)
        loader = DataLoader(Pictures(files, eval_transform(self.config.image_size)), batch_size=256,
                            num_workers=self.config.num_workers, collate_fn=collate_skip_bad)
        device = self.classifier.weight.device
        was_training = self.backbone.training
        self.backbone.eval()
        embeddings, colours, indices = [], [], []
        for batch in tqdm(loader, desc="grouping", leave=False, disable=not progress):
            if batch is None:
                continue
            images = batch["image"].to(device).contiguous(memory_format=torch.channels_last)
            embeddings.append(F.normalize(self.backbone(images).float(), dim=-1).cpu())  # [B, D]
            colours.append(colour(batch["image"]))  # [B, H], unit length
            indices.append(batch["index"])
        self.backbone.train(was_training)
        embedded = torch.cat(embeddings)
        centred = F.normalize(embedded - embedded.mean(dim=0), dim=-1)  # what all faces share says nothing
        return F.normalize(torch.cat([centred, torch.cat(colours)], dim=1), dim=-1), torch.cat(indices)


__all__ = ["Clusters", "spherical_kmeans"]
