"""Convolutional models: ``shallow``, torchvision ResNets and EfficientNet-B0."""

from __future__ import annotations

from collections.abc import Callable

import torchvision
from torch import Tensor, nn

from ..config.train import TrainConfig
from ..errors import ConfigError
from .output import ModelOutput, model_output
from .pretrained import load_pretrained_cnn
from .registry import MODELS
from .shallow import ShallowNet


class TorchvisionClassifier(nn.Module):
    """Wraps a torchvision classifier so it returns a :class:`ModelOutput`."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: Tensor) -> ModelOutput:
        """images: [B, 3, H, W] → logits [B, num_classes]."""
        return model_output(self.net(images))


def _vision_only(config: TrainConfig) -> None:
    if config.multimodal or config.interm_features_fc:
        raise ConfigError(
            f"model_name='{config.model_name}' is a CNN; multimodal and interm_features_fc need a ViT "
            "(B_16, B_32, L_16, L_32, Ti_16, S_16 or S_32)."
        )


@MODELS.register("shallow")
def build_shallow(config: TrainConfig, num_classes: int, vocab_size: int | None = None) -> nn.Module:
    """The two-block CNN baseline (never pretrained)."""
    _vision_only(config)
    if config.pretrained:
        raise ConfigError("model_name='shallow' has no pretrained weights; set pretrained=False.")
    return ShallowNet(num_classes=num_classes)


def _torchvision_builder(arch: str, weights: str, head: Callable[[nn.Module], tuple[nn.Module, str]]):
    def build(config: TrainConfig, num_classes: int, vocab_size: int | None = None) -> nn.Module:
        _vision_only(config)
        net = getattr(torchvision.models, arch)(weights=None)
        if config.pretrained:
            load_pretrained_cnn(net, arch, weights, config.pretrained_path)
        parent, attr = head(net)
        old = getattr(parent, attr)
        setattr(parent, attr, nn.Linear(old.in_features, num_classes))
        return TorchvisionClassifier(net)

    build.__doc__ = f"torchvision {arch}, optionally from its ImageNet weights ({weights})."
    return build


for _name, _weights in (("resnet18", "IMAGENET1K_V1"), ("resnet50", "IMAGENET1K_V2"), ("resnet152", "IMAGENET1K_V2")):
    MODELS.register(_name)(_torchvision_builder(_name, _weights, lambda net: (net, "fc")))
MODELS.register("efficientnetb0")(
    _torchvision_builder("efficientnet_b0", "IMAGENET1K_V1", lambda net: (net.classifier, "1"))
)
