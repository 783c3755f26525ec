"""Attention maps of any model built from timm ``Attention`` blocks, captured by hooks while it runs.

Nothing is needed at training time. timm's ``Attention`` calls ``F.scaled_dot_product_attention`` when
``fused_attn`` is set, and the attention probabilities never exist as a tensor; so fused attention is
switched off only for the extracting forward pass, where the unfused path hands the softmaxed
probabilities [B, H, T, T] to ``attn_drop``. A forward hook on ``attn_drop`` keeps its input (before
dropout, so the model's train/eval mode does not matter). Hooks and flags are restored afterwards.

``timm.utils.AttentionExtract`` hooks the same modules, but it leaves its hooks on the model, does not
switch fused attention off (so it captures nothing from a model created with fused attention), returns
only the maps without the model's output, and passes a single input (multimodal models also take tags).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from timm.layers import Attention
from timm.models.vision_transformer import VisionTransformer
from torch import Tensor, nn

from ..errors import CheckpointError


@dataclass
class AttentionMaps:
    """What one extracting forward pass saw.

    ``attentions``: [L, B, H, T, T] softmaxed attention of every block, in the order the blocks ran
    (float32, CPU). Tokens are [prefix (class) tokens, image patches row by row, then any tokens the
    model appends after the image, e.g. tags of a multimodal model].
    ``output``: whatever the model returned (a ``ModelOutput`` for Animesion models).
    """

    attentions: Tensor
    output: Any
    num_prefix_tokens: int
    grid_size: tuple[int, int]

    @property
    def num_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def num_heads(self) -> int:
        return self.attentions.shape[2]

    @property
    def num_image_tokens(self) -> int:
        """Prefix tokens plus patches: everything up to the first appended (text) token."""
        return self.num_prefix_tokens + self.grid_size[0] * self.grid_size[1]

    @property
    def num_text_tokens(self) -> int:
        """Tokens after the image tokens (tags of multimodal models); 0 for vision-only models."""
        return self.attentions.shape[-1] - self.num_image_tokens


def attention_modules(model: nn.Module) -> list[Attention]:
    """Every timm ``Attention`` module of ``model``, in registration order."""
    modules = [m for m in model.modules() if isinstance(m, Attention)]
    if not modules:
        raise CheckpointError(
            f"{type(model).__name__} has no timm Attention blocks; attention maps need a ViT checkpoint."
        )
    return modules


def vision_trunk(model: nn.Module) -> VisionTransformer:
    """The timm ``VisionTransformer`` inside ``model`` (it knows the patch grid and the prefix tokens)."""
    for module in model.modules():
        if isinstance(module, VisionTransformer):
            return module
    raise CheckpointError(f"{type(model).__name__} has no timm VisionTransformer; attention maps need a ViT.")


@contextmanager
def unfused_attention(modules: Sequence[Attention]) -> Iterator[None]:
    """Switch ``fused_attn`` off on ``modules`` for the duration of the block, then restore each flag."""
    saved = [m.fused_attn for m in modules]
    try:
        for m in modules:
            m.fused_attn = False
        yield
    finally:
        for m, fused in zip(modules, saved):
            m.fused_attn = fused


def extract_attention(model: nn.Module, *inputs: Any, **kwargs: Any) -> AttentionMaps:
    """Run ``model(*inputs, **kwargs)`` once without gradients and capture every block's attention."""
    modules = attention_modules(model)
    trunk = vision_trunk(model)
    captured: list[Tensor] = []

    def keep(_module: nn.Module, args: tuple[Tensor, ...], _output: Tensor) -> None:
        captured.append(args[0].detach().float().cpu())  # [B, H, T, T], rows sum to 1

    handles = [m.attn_drop.register_forward_hook(keep) for m in modules]
    try:
        with unfused_attention(modules), torch.inference_mode():
            output = model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    if len(captured) != len(modules):
        raise RuntimeError(f"Expected one attention map per block ({len(modules)}), captured {len(captured)}.")
    return AttentionMaps(torch.stack(captured), output, trunk.num_prefix_tokens, tuple(trunk.patch_embed.grid_size))
