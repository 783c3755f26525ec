"""Attention extraction, rollout and maps: hand-computed rollout, fused = unfused = manual q·k softmax."""

from __future__ import annotations

import pytest
import torch
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from animesion.attention import (
    AttentionMaps,
    attention_modules,
    attention_rollout,
    extract_attention,
    layer_maps,
    layer_text_share,
    rollout_map,
    rollout_text_share,
    to_patch_grid,
)
from animesion.errors import CheckpointError
from animesion.models.shallow import ShallowNet
from animesion.models.vit import ViTClassifier


def tiny_vit(fused: bool = True) -> ViTClassifier:
    torch.manual_seed(0)
    trunk = VisionTransformer(img_size=32, patch_size=8, embed_dim=48, depth=3, num_heads=3, num_classes=0)
    model = ViTClassifier(vit=trunk, num_classes=5).eval()
    for module in attention_modules(model):
        module.fused_attn = fused
    return model


def manual_attention(model: ViTClassifier, images: torch.Tensor) -> list[torch.Tensor]:
    """softmax(q·kᵀ / √d) of every block, computed from the block weights: [B, H, T, T] each."""
    out, x = [], model.embed(images)
    for block in model.vit.blocks:
        attn = block.attn
        B, T, _ = x.shape
        qkv = attn.qkv(block.norm1(x)).reshape(B, T, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4)
        q, k = qkv[0], qkv[1]
        out.append((q @ k.transpose(-2, -1) * attn.head_dim**-0.5).softmax(dim=-1))
        x = block(x)
    return out


def test_rollout_matches_hand_computed_two_layer_example():
    # layer 1: heads [[1,0],[.5,.5]] and [[.5,.5],[0,1]] → mean [[.75,.25],[.25,.75]] → (+I, rows /2)
    #          Â1 = [[.875,.125],[.125,.875]]
    # layer 2: heads [[1,0],[1,0]] and [[1,0],[0,1]] → mean [[1,0],[.5,.5]] → +I [[2,0],[.5,1.5]]
    #          Â2 = [[1,0],[.25,.75]]
    # rollout = Â2 · Â1 = [[.875,.125],[.25·.875+.75·.125, .25·.125+.75·.875]] = [[.875,.125],[.3125,.6875]]
    layer1 = torch.tensor([[[1.0, 0.0], [0.5, 0.5]], [[0.5, 0.5], [0.0, 1.0]]])
    layer2 = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]])
    attentions = torch.stack([layer1, layer2])[:, None]  # [L=2, B=1, H=2, T=2, T=2]
    expected = torch.tensor([[0.875, 0.125], [0.3125, 0.6875]])
    torch.testing.assert_close(attention_rollout(attentions)[0], expected)


def test_rollout_rows_stay_distributions():
    attentions = torch.rand(4, 2, 3, 6, 6).softmax(dim=-1)
    rollout = attention_rollout(attentions)
    assert rollout.shape == (2, 6, 6)
    torch.testing.assert_close(rollout.sum(dim=-1), torch.ones(2, 6))


def test_fused_extraction_equals_unfused_and_manual_attention():
    images = torch.randn(2, 3, 32, 32)
    fused, unfused = tiny_vit(fused=True), tiny_vit(fused=False)
    with torch.no_grad():
        reference_logits = fused(images)["logits"]  # fused (SDPA) forward, no hooks
        manual = manual_attention(fused, images)
    maps = extract_attention(fused, images)
    plain = extract_attention(unfused, images)
    assert maps.attentions.shape == (3, 2, 3, 17, 17)  # [L, B, H, 1 + 4×4, 1 + 4×4]
    torch.testing.assert_close(maps.attentions, plain.attentions)
    for layer, expected in enumerate(manual):
        torch.testing.assert_close(maps.attentions[layer], expected, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(maps.output["logits"], reference_logits, atol=1e-5, rtol=1e-5)
    # the flags and hooks are put back: the model is as it was
    assert all(m.fused_attn for m in attention_modules(fused))
    assert not any(m.attn_drop._forward_hooks for m in attention_modules(fused))


def test_flags_restored_when_the_forward_fails():
    model = tiny_vit(fused=True)
    with pytest.raises(AssertionError, match="doesn't match model"):
        extract_attention(model, torch.randn(1, 3, 16, 16))  # timm refuses the wrong image size
    assert all(m.fused_attn for m in attention_modules(model))
    assert not any(m.attn_drop._forward_hooks for m in attention_modules(model))


def test_models_without_attention_are_refused():
    with pytest.raises(CheckpointError, match="ViT"):
        extract_attention(ShallowNet(num_classes=3), torch.randn(1, 3, 32, 32))


class TagsAfterImage(nn.Module):
    """A stand-in multimodal model: three tag tokens appended after the image tokens, one shared trunk."""

    def __init__(self, vit: ViTClassifier) -> None:
        super().__init__()
        self.model = vit
        self.tags = nn.Parameter(torch.randn(1, 3, vit.vit.embed_dim))

    def forward(self, images: torch.Tensor) -> dict:
        x = self.model.embed(images)
        x = torch.cat([x, self.tags.expand(len(x), -1, -1)], dim=1)
        tokens, _ = self.model.encode(x)
        return {"logits": self.model.head(tokens[:, 0])}


def test_text_tokens_after_the_image_are_reported():
    maps = extract_attention(TagsAfterImage(tiny_vit()), torch.randn(2, 3, 32, 32))
    assert maps.num_image_tokens == 17 and maps.num_text_tokens == 3
    shares = layer_text_share(maps)
    assert shares.shape == (3, 2)
    mean = maps.attentions.mean(dim=2)[..., 0, :]  # class-token rows [L, B, T]
    torch.testing.assert_close(shares + mean[..., :17].sum(-1), torch.ones(3, 2))
    assert layer_maps(maps).shape == (3, 2, 4, 4)
    rollout = attention_rollout(maps.attentions)
    assert rollout_text_share(rollout, maps).shape == (2,)


def test_patch_grid_takes_the_patch_tokens_row_by_row():
    # T = 1 class token + 2×3 patches + 2 tag tokens; row values are their token index
    maps = AttentionMaps(torch.zeros(1, 1, 1, 9, 9), None, num_prefix_tokens=1, grid_size=(2, 3))
    rows = torch.arange(9.0)
    torch.testing.assert_close(to_patch_grid(rows, maps), torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    rollout = torch.eye(9)[None]
    assert rollout_map(rollout, maps).shape == (1, 2, 3)
    assert layer_text_share(AttentionMaps(torch.zeros(1, 1, 1, 7, 7), None, 1, (2, 3))) is None
