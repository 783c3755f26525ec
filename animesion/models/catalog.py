"""The model zoo as data: every ``model_name`` and what it is built from (no torch needed to read it).

The catalog answers questions about a name before anything is built (is it a ViT? which patch size?
which pretrained weights?), so configs can check their parameters without importing torch. The code
that builds each family is in :mod:`.factory`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..registry import Registry


@dataclass(frozen=True)
class Architecture:
    """One ``model_name``: its family (``shallow``, ``torchvision`` or ``vit``), a one-line description, and
    whether ImageNet weights exist for it (``has_pretrained``)."""

    family: str
    description: str
    has_pretrained: bool = field(default=True, kw_only=True)

    @property
    def is_vit(self) -> bool:
        """ViTs take the IFA head, the vision+tags input, drop-path and layer-wise LR decay; CNNs do not."""
        return self.family == "vit"


@dataclass(frozen=True)
class TorchvisionCNN(Architecture):
    """A torchvision classifier: ``arch`` (its builder's name), ImageNet ``weights`` and the ``head`` child."""

    arch: str = ""
    weights: str = ""
    head: str = ""


@dataclass(frozen=True)
class ViTSize(Architecture):
    """A ViT size: patch side, width, depth, heads, and the timm name of its ImageNet-21k weights."""

    patch: int = 16
    width: int = 768
    depth: int = 12
    heads: int = 12
    weights: str = ""


ARCHITECTURES: Registry[Architecture] = Registry("model_name")
ARCHITECTURES.register("shallow")(Architecture("shallow", "two conv blocks and an MLP, never pretrained",
                                              has_pretrained=False))
for _name, _weights, _head in (("resnet18", "IMAGENET1K_V1", "fc"), ("resnet50", "IMAGENET1K_V2", "fc"),
                               ("resnet152", "IMAGENET1K_V2", "fc")):
    ARCHITECTURES.register(_name)(TorchvisionCNN("torchvision", f"torchvision {_name}", _name, _weights, _head))
ARCHITECTURES.register("efficientnetb0")(
    TorchvisionCNN("torchvision", "torchvision efficientnet_b0", "efficientnet_b0", "IMAGENET1K_V1", "classifier"))
for _name, (_patch, _width, _depth, _heads, _weights) in {
    "Ti_16": (16, 192, 12, 3, "vit_tiny_patch16_224.augreg_in21k"),
    "S_16": (16, 384, 12, 6, "vit_small_patch16_224.augreg_in21k"),
    "S_32": (32, 384, 12, 6, "vit_small_patch32_224.augreg_in21k"),
    "B_16": (16, 768, 12, 12, "vit_base_patch16_224.orig_in21k"),
    "B_32": (32, 768, 12, 12, "vit_base_patch32_224.orig_in21k"),
    "L_16": (16, 1024, 24, 16, "vit_large_patch16_224.orig_in21k"),
    "L_32": (32, 1024, 24, 16, "vit_large_patch32_224.orig_in21k"),
}.items():
    ARCHITECTURES.register(_name)(ViTSize("vit", f"ViT {_name}: patch {_patch}, width {_width}, depth {_depth}",
                                          _patch, _width, _depth, _heads, _weights))


def vit_names() -> list[str]:
    """The ``model_name`` of every ViT."""
    return [name for name in ARCHITECTURES.names() if ARCHITECTURES.get(name).is_vit]


def torchvision_names() -> list[str]:
    """The ``model_name`` of every torchvision CNN."""
    return [name for name in ARCHITECTURES.names() if ARCHITECTURES.get(name).family == "torchvision"]


def architecture_problem(model_name: str, *, image_size: int, interm_features_fc: bool = False,
                         multimodal: bool = False, pretrained: bool = False, drop_path: float = 0.0) -> str | None:
    """Why these model arguments do not fit ``model_name``, in one sentence naming the parameter; None if they do.

    The parameter names are the same in :class:`~animesion.models.spec.ModelSpec` and the training config,
    so both ask this one function.
    """
    arch = ARCHITECTURES.get(model_name)
    vits = ", ".join(vit_names())
    for flag, on in (("interm_features_fc", interm_features_fc), ("multimodal", multimodal),
                     ("drop_path", drop_path > 0)):
        if on and not arch.is_vit:
            return f"{flag} needs a ViT ({vits}); model_name='{model_name}' is a CNN."
    if isinstance(arch, ViTSize) and image_size % arch.patch:
        return f"model_name='{model_name}' needs an image_size divisible by {arch.patch}, got {image_size}."
    if pretrained and not arch.has_pretrained:
        return f"model_name='{model_name}' has no pretrained weights; set pretrained=False."
    if not 0.0 <= drop_path < 1.0:
        return f"drop_path must lie in [0, 1), got {drop_path}."
    return None


__all__ = ["ARCHITECTURES", "Architecture", "TorchvisionCNN", "ViTSize", "architecture_problem", "torchvision_names",
           "vit_names"]
