"""A backbone a CNN can start from instead of random weights: one that ships with the package, or a file
written by ``python -m animesion.pretrain`` (self-supervised, from pictures without labels).

A network trained from random weights on a dataset's few characters learns what tells those characters
apart and little that carries to others (``benchmarks/new_characters.md``). A backbone pretrained by SimCLR
on many unlabelled faces (:mod:`animesion.pretrain`) starts it from features of faces in general: on the
5 folds of holo20 it names characters it never trained on better, from the same pictures and the same
training time (``python -m benchmarks.open_set --only folds``). So ``backbone='auto'``, 03's default,
starts a model from the package's own backbone for it (:data:`BACKBONES`) unless ImageNet weights are asked
for; the run's :class:`~.spec.ModelSpec` records the name it started from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CheckpointError
from ..paths import resolve_path
from ..registry import Registry

if TYPE_CHECKING:  # torch comes only with a model
    from torch import nn

log = logging.getLogger("animesion")

AUTO = "auto"  # the package's backbone for the model, if it has one and ImageNet weights are not asked for


@dataclass(frozen=True)
class ShippedBackbone:
    """A backbone in the package: the ``model_name`` it fits and its ``file`` in ``animesion/models/weights/``;
    how it was made is in the file's header (``python -m animesion.pretrain``'s recipe and losses)."""

    model_name: str
    file: str

    @property
    def path(self) -> Path:
        return Path(str(files("animesion.models") / "weights" / self.file))


BACKBONES: Registry[ShippedBackbone] = Registry("backbone")
# SimCLR at 64 px on the 20,000 unlabelled faces of shared/data/faces-unlabelled, 8 epochs and 10 more continued
# from them (README: Pretraining; the file's header holds both recipes).
BACKBONES.register("faces-simclr-resnet18")(ShippedBackbone("resnet18", "faces_simclr_resnet18.safetensors"))


def backbone_for(backbone: str, model_name: str, pretrained: bool) -> str:
    """The backbone a run of ``model_name`` starts from: ``'auto'`` becomes the package's backbone for it ('' when
    it has none, or ``pretrained`` asks for ImageNet weights); any other value is kept."""
    if backbone != AUTO:
        return backbone
    if pretrained:
        return ""
    return next((name for name in BACKBONES.names() if BACKBONES.get(name).model_name == model_name), "")


def backbone_file(backbone: str) -> Path:
    """The weights file ``backbone`` names (one of :data:`BACKBONES`, or a path); CheckpointError naming it when
    it is missing."""
    path = BACKBONES.get(backbone).path if backbone in BACKBONES else resolve_path(backbone)
    if not path.is_file():
        raise CheckpointError(f"backbone '{backbone}': no weights file at '{path}'; give a file written by "
                              "python -m animesion.pretrain, or backbone='' for random weights.")
    return path


def load_backbone(net: nn.Module, backbone: str, head: str) -> None:
    """Load the backbone's weights into the torchvision ``net`` (in place); only its classifier ``head`` may be
    missing from the file (03 makes it anew for its classes)."""
    from ..utils.state_dict import read_state_dict

    path = backbone_file(backbone)
    state = {k: v.float() if v.is_floating_point() else v for k, v in read_state_dict(path).items()}
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise CheckpointError(f"'{path}' does not fit this model: {str(err).splitlines()[1].strip()}") from None
    missing = [k for k in result.missing_keys if not k.startswith(f"{head}.")]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"'{path}' does not fit this model: {len(missing)} of its weights are missing (e.g. "
                              f"{(missing or ['-'])[0]}), {len(result.unexpected_keys)} are not its own.")
    log.info("backbone: %s from %s", backbone, path)


__all__ = ["AUTO", "BACKBONES", "ShippedBackbone", "backbone_file", "backbone_for", "load_backbone"]
