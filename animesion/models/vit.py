"""Vision Transformers built on timm, with a plain or IFA head."""

from __future__ import annotations

from functools import partial

import torch
from timm.models.vision_transformer import VisionTransformer
from torch import Tensor, nn

from .catalog import ViTSize
from .ifa import IFAHead
from .output import ModelOutput, model_output, tag_head_of, tags_of
from .pretrained import load_vit_weights, vit_weights_file


class ViTClassifier(nn.Module):
    """A timm ``VisionTransformer`` trunk with a class-token head or an IFA head.

    Pre-norm blocks, a class token, learned position embeddings and LayerNorm eps 1e-12, as in the
    original Animesion ViTs.
    """

    def __init__(self, *, vit: VisionTransformer, num_classes: int, ifa: bool = False, num_tags: int = 0) -> None:
        super().__init__()
        self.vit = vit
        depth, dim = len(vit.blocks), vit.embed_dim
        self.head = IFAHead(num_layers=depth, dim=dim, num_classes=num_classes) if ifa else nn.Linear(dim, num_classes)
        self.ifa = ifa
        self.tag_head = tag_head_of(dim, num_tags)

    def group_matcher(self, coarse: bool = False) -> dict:
        """timm's parameter groups, for layer-wise LR decay: the embeddings first, then one group per block
        (and the final norm with the last); the heads fall into the last group, at the full rate."""
        return {"stem": r"^vit\.(?:cls_token|pos_embed|patch_embed)|^text\.",
                "blocks": r"^vit\.blocks\.(\d+)" if coarse else [(r"^vit\.blocks\.(\d+)", None),
                                                                (r"^vit\.norm", (99999,))]}

    def no_weight_decay(self) -> set[str]:
        """Parameters timm's optimizers leave out of the weight decay (besides every 1-D one), as timm's ViT does."""
        return {"vit.cls_token", "vit.pos_embed"}

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

    def classify(self, hidden: Tensor, layer_cls: Tensor) -> tuple[Tensor, Tensor]:
        """Logits [B, classes] and embedding [B, D]: the final class token, or the IFA head's aggregate."""
        embedding = self.head.features(layer_cls) if self.ifa else hidden[:, 0]
        return (self.head[-1] if self.ifa else self.head)(embedding), embedding

    def forward(self, images: Tensor) -> ModelOutput:
        """images: [B, 3, H, W] → logits [B, classes], embedding [B, D] (and layer_cls [B, L, D] with IFA,
        tag_logits [B, tags] with a tag head)."""
        tokens, layer_cls = self.encode(self.embed(images))
        logits, embedding = self.classify(tokens, layer_cls)
        return model_output(logits, embedding, layer_cls=layer_cls if self.ifa else None,
                            tag_logits=tags_of(self.tag_head, embedding))


def make_vit_trunk(arch: ViTSize, image_size: int, pretrained: bool = False, pretrained_path: str = "",
                   drop_path: float = 0.0) -> VisionTransformer:
    """The timm ViT trunk of ``arch`` at ``image_size`` (position embeddings resampled if pretrained).

    timm's defaults give the original architecture: pre-norm blocks, a class token, learned position
    embeddings, MLP width 4×D and exact GELU; the LayerNorm eps (1e-12) and the initialisation of the
    original JAX ViT (``weight_init="jax"``: Xavier-uniform linears, which is also quicker than timm's
    truncated normals for ViT-L) are set here. ``drop_path``: timm's stochastic depth, rising linearly
    over the blocks to this rate (no weights, so checkpoints do not change). The trunk has no classifier
    (``num_classes=0``): :class:`ViTClassifier` adds the head.
    """
    weights = vit_weights_file(arch.weights, pretrained_path) if pretrained else None
    trunk = VisionTransformer(img_size=image_size, patch_size=arch.patch, embed_dim=arch.width, depth=arch.depth,
                              num_heads=arch.heads, mlp_ratio=4.0, num_classes=0,
                              norm_layer=partial(nn.LayerNorm, eps=1e-12), weight_init="jax", drop_path_rate=drop_path)
    if weights is not None:
        load_vit_weights(trunk, weights, arch.weights)
    return trunk


__all__ = ["ViTClassifier", "make_vit_trunk"]
