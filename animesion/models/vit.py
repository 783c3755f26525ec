"""Vision Transformers built on timm, with a plain or IFA head."""

from __future__ import annotations

from functools import partial

import torch
from timm.models.vision_transformer import VisionTransformer
from torch import Tensor, nn

from ..config.train import TrainConfig
from ..errors import ConfigError
from .ifa import IFAHead
from .output import ModelOutput, model_output
from .pretrained import load_vit_weights, vit_weights_file
from .registry import MODELS

# name: (patch, width, depth, heads, timm name of the ImageNet-21k weights)
VIT_SPECS = {
    "Ti_16": (16, 192, 12, 3, "vit_tiny_patch16_224.augreg_in21k"),
    "S_16": (16, 384, 12, 6, "vit_small_patch16_224.augreg_in21k"),
    "S_32": (32, 384, 12, 6, "vit_small_patch32_224.augreg_in21k"),
    "B_16": (16, 768, 12, 12, "vit_base_patch16_224.orig_in21k"),
    "B_32": (32, 768, 12, 12, "vit_base_patch32_224.orig_in21k"),
    "L_16": (16, 1024, 24, 16, "vit_large_patch16_224.orig_in21k"),
    "L_32": (32, 1024, 24, 16, "vit_large_patch32_224.orig_in21k"),
}


class ViTClassifier(nn.Module):
    """A timm ``VisionTransformer`` trunk with a class-token head or an IFA head.

    Pre-norm blocks, a class token, learned position embeddings and LayerNorm eps 1e-12, as in the
    original Animesion ViTs.
    """

    def __init__(self, *, vit: VisionTransformer, num_classes: int, ifa: bool = False) -> None:
        super().__init__()
        self.vit = vit
        depth, dim = len(vit.blocks), vit.embed_dim
        self.head = IFAHead(num_layers=depth, dim=dim, num_classes=num_classes) if ifa else nn.Linear(dim, num_classes)
        self.ifa = ifa

    def embed(self, images: Tensor) -> Tensor:
        """images [B, 3, H, W] → tokens [B, 1 + N, D] with class token and position embeddings."""
        x = self.vit.patch_embed(images)
        x = self.vit._pos_embed(x)
        return self.vit.norm_pre(x)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Run the blocks on tokens [B, T, D]: final normed tokens [B, T, D] and raw class tokens [B, L, D]."""
        cls = []
        for block in self.vit.blocks:
            x = block(x)
            cls.append(x[:, 0])
        return self.vit.norm(x), torch.stack(cls, dim=1)

    def forward(self, images: Tensor) -> ModelOutput:
        """images: [B, 3, H, W] → logits [B, classes] (and layer_cls [B, L, D] with the IFA head)."""
        tokens, layer_cls = self.encode(self.embed(images))
        if self.ifa:
            return model_output(self.head(layer_cls), layer_cls=layer_cls)
        return model_output(self.head(tokens[:, 0]))


def make_vit_trunk(
    name: str, image_size: int, pretrained: bool = False, pretrained_path: str = ""
) -> VisionTransformer:
    """The timm ViT trunk for ``name`` at ``image_size`` (position embeddings resampled if pretrained).

    timm's defaults give the original architecture: pre-norm blocks, a class token, learned position
    embeddings, MLP width 4×D and exact GELU; the LayerNorm eps (1e-12) and the initialisation of the
    original JAX ViT (``weight_init="jax"``: Xavier-uniform linears, which is also quicker than timm's
    truncated normals for ViT-L) are set here. The trunk has no classifier (``num_classes=0``):
    :class:`ViTClassifier` adds the head.
    """
    patch, dim, depth, heads, timm_name = VIT_SPECS[name]
    if image_size % patch:
        raise ConfigError(f"model_name='{name}' needs an image_size divisible by {patch}, got {image_size}.")
    weights = vit_weights_file(timm_name, pretrained_path) if pretrained else None
    trunk = VisionTransformer(img_size=image_size, patch_size=patch, embed_dim=dim, depth=depth, num_heads=heads,
                              mlp_ratio=4.0, num_classes=0, norm_layer=partial(nn.LayerNorm, eps=1e-12),
                              weight_init="jax")
    if weights is not None:
        load_vit_weights(trunk, weights, timm_name)
    return trunk


def _vit_builder(name: str):
    def build(config: TrainConfig, num_classes: int, vocab_size: int | None = None) -> nn.Module:
        trunk = make_vit_trunk(name, config.image_size, config.pretrained, config.pretrained_path)
        if config.multimodal:
            from .multimodal import build_multimodal  # noqa: PLC0415 - only multimodal runs need it

            return build_multimodal(trunk, config, num_classes, vocab_size)
        return ViTClassifier(vit=trunk, num_classes=num_classes, ifa=config.interm_features_fc)

    build.__doc__ = f"ViT {name} (patch {VIT_SPECS[name][0]}, width {VIT_SPECS[name][1]}, depth {VIT_SPECS[name][2]})."
    return build


for _name in VIT_SPECS:
    MODELS.register(_name)(_vit_builder(_name))

__all__ = ["VIT_SPECS", "ViTClassifier", "make_vit_trunk"]
