"""Convolutional models: ``shallow`` and the torchvision ResNets and EfficientNet-B0."""

from __future__ import annotations

import torch
import torchvision
from torch import Tensor, nn

from .backbones import load_backbone
from .catalog import Architecture, TorchvisionCNN
from .output import ModelOutput, model_output, tag_head_of, tags_of
from .pretrained import load_pretrained_cnn
from .shallow import ShallowNet
from .spec import ModelSpec


class TorchvisionClassifier(nn.Module):
    """A torchvision classifier that returns a :class:`ModelOutput`, its pooled features as the embedding.

    ResNets and EfficientNets run their children in registration order (body…, ``avgpool``, then the
    classifier child ``head``) with a flatten before the classifier; running the children up to ``head``
    gives the pooled features [B, D] and keeps torchvision's weight names (``net.fc.weight``, …).
    """

    def __init__(self, net: nn.Module, head: str, num_tags: int = 0) -> None:
        super().__init__()
        self.net = net
        self.head_name = head
        classifier = getattr(net, head)
        self.tag_head = tag_head_of((classifier if isinstance(classifier, nn.Linear) else classifier[-1]).in_features,
                                    num_tags)

    def group_matcher(self, coarse: bool = False) -> dict:
        """timm's parameter groups, for layer-wise LR decay: the stem, then one group per stage (ResNet's
        ``layer1``–``layer4``, EfficientNet's ``features.N``); the heads fall into the last group, at the full rate.
        Stages, not blocks, at either coarseness: a ResNet-18 has only 8 blocks, so per-block decay falls fast."""
        return {"stem": r"^net\.(?:conv1|bn1)\.", "blocks": [(r"^net\.layer(\d+)\.", None),
                                                            (r"^net\.features\.(\d+)\.", None)]}

    def forward(self, images: Tensor) -> ModelOutput:
        """images: [B, 3, H, W] → logits [B, num_classes], embedding [B, D] (and tag_logits [B, tags])."""
        x = images
        for name, child in self.net.named_children():
            if name == self.head_name:
                break
            x = child(x)
        embedding = torch.flatten(x, 1)  # [B, D]
        return model_output(getattr(self.net, self.head_name)(embedding), embedding,
                            tag_logits=tags_of(self.tag_head, embedding))


def build_shallow(spec: ModelSpec, arch: Architecture) -> nn.Module:
    """The two-block CNN baseline (never pretrained)."""
    return ShallowNet(num_classes=spec.num_classes, num_tags=spec.num_tags)


def build_torchvision(spec: ModelSpec, arch: TorchvisionCNN) -> nn.Module:
    """A torchvision CNN, optionally from its ImageNet weights or a self-supervised backbone, with a fresh
    classifier for ``num_classes``."""
    net = getattr(torchvision.models, arch.arch)(weights=None)
    if spec.pretrained:
        load_pretrained_cnn(net, arch.arch, arch.weights, spec.pretrained_path)
    elif spec.backbone:
        load_backbone(net, spec.backbone, arch.head)
    # The classifier is the child ``head`` (ResNet: fc) or the last layer inside it (EfficientNet: classifier[1]).
    head = getattr(net, arch.head)
    parent, attr = (net, arch.head) if isinstance(head, nn.Linear) else (head, "1")
    setattr(parent, attr, nn.Linear(getattr(parent, attr).in_features, spec.num_classes))
    return TorchvisionClassifier(net, arch.head, spec.num_tags)
