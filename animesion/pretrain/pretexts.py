"""The code of the pretexts ``python -m animesion.pretrain`` learns a backbone by (its ``method``; the names and
what each learns are :data:`animesion.config.pretrain.PRETEXTS`, which configs read without torch):

* ``simclr`` (:mod:`.simclr`): two views of every picture must find each other among the batch's other views.
  It learns what tells one *picture* from another, which begins on identity but also keeps pose and framing.
* ``clusters`` (:mod:`.clusters`): pseudo-characters. k-means groups the pictures by the backbone's embedding
  joined to their colour histogram, and the backbone learns to name each picture's group from a view shifted to
  another source; the groups are drawn again every few epochs (DeepCluster, Caron et al., 2018). Pictures of one
  character fall in one group far more often than pictures of two, so the backbone learns what a character keeps
  across pictures. It starts from a backbone that already tells faces apart (SimCLR's): the first groups are only
  as good as the features they are drawn from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from torch import Tensor, nn
from torch.utils.data import Dataset

from ..config.pretrain import PretrainConfig
from ..registry import Registry
from .clusters import Clusters
from .simclr import SimCLR


class Pretext(Protocol):
    """What the pretraining loop needs of a pretext (an ``nn.Module``): the ``backbone`` it writes, the dataset of
    a batch's items, the loss of a batch, and a hook at the start of every epoch."""

    backbone: nn.Module

    def parameters(self) -> Iterator[nn.Parameter]: ...

    def dataset(self, files: list[Path]) -> Dataset: ...

    def loss(self, batch: dict[str, Tensor]) -> Tensor: ...

    def start_epoch(self, epoch: int, files: list[Path], progress: bool = False) -> None: ...


BUILDERS: Registry[Callable[[PretrainConfig], Pretext]] = Registry("method")  # one per name of PRETEXTS
BUILDERS.register("simclr")(SimCLR)
BUILDERS.register("clusters")(Clusters)

__all__ = ["BUILDERS", "Pretext"]
