"""``create_model(spec)``: the one factory; a registry maps each family of the catalog to its builder."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ..registry import Registry
from .catalog import ARCHITECTURES, Architecture
from .cnn import build_shallow, build_torchvision
from .multimodal import MultimodalViT
from .spec import ModelSpec
from .vit import ViTClassifier, make_vit_trunk

Builder = Callable[[ModelSpec, Architecture], nn.Module]
FAMILIES: Registry[Builder] = Registry("model family")
FAMILIES.register("shallow")(build_shallow)
FAMILIES.register("torchvision")(build_torchvision)


@FAMILIES.register("vit")
def build_vit(spec: ModelSpec, arch: Architecture) -> nn.Module:
    """A ViT with a class-token or IFA head; with ``multimodal`` it also reads tags (and may fill masked ones)."""
    trunk = make_vit_trunk(arch, spec.image_size, spec.pretrained, spec.pretrained_path, spec.drop_path)
    if spec.multimodal:
        return MultimodalViT(vit=trunk, num_classes=spec.num_classes, vocab_size=spec.vocab_size,
                             max_len=spec.max_text_seq_len, ifa=spec.interm_features_fc,
                             masked_tag_head=spec.masked_tag_head, num_tags=spec.num_tags)
    return ViTClassifier(vit=trunk, num_classes=spec.num_classes, ifa=spec.interm_features_fc, num_tags=spec.num_tags)


def create_model(spec: ModelSpec) -> nn.Module:
    """Build the model ``spec`` describes; every model returns a :class:`~animesion.models.output.ModelOutput`."""
    arch = ARCHITECTURES.get(spec.model_name)
    return FAMILIES.get(arch.family)(spec, arch)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["FAMILIES", "count_parameters", "create_model"]
