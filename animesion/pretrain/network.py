"""The network a pretext trains: a torchvision CNN without its classifier, from random weights or a backbone."""

from __future__ import annotations

from torch import Tensor, nn

from ..models.backbones import load_backbone
from ..models.catalog import ARCHITECTURES


def headless(model_name: str, backbone: str = "") -> tuple[nn.Module, int]:
    """``model_name``'s torchvision CNN with its classifier replaced by the identity (images [B, 3, S, S] →
    pooled features [B, D]), started from the backbone ``backbone`` ('' random weights); and D."""
    import torchvision

    arch = ARCHITECTURES.get(model_name)
    net = getattr(torchvision.models, arch.arch)(weights=None)
    if backbone:  # continue an earlier pretraining; its file holds no classifier
        load_backbone(net, backbone, arch.head)
    head = getattr(net, arch.head)
    width = (head if isinstance(head, nn.Linear) else head[-1]).in_features
    setattr(net, arch.head, nn.Identity())
    return net, width


def backbone_state(net: nn.Module) -> dict[str, Tensor]:
    """The backbone's weights under torchvision's names, without the classifier (which 03 makes anew)."""
    return {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}


__all__ = ["backbone_state", "headless"]
