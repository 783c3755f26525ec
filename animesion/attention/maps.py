"""From token-by-token attention to pictures: the class token's attention laid out on the patch grid."""

from __future__ import annotations

from torch import Tensor

from .extract import AttentionMaps


def to_patch_grid(rows: Tensor, maps: AttentionMaps) -> Tensor:
    """Attention rows [..., T] → their patch part as [..., rows, cols] (prefix and text tokens dropped)."""
    start, end = maps.num_prefix_tokens, maps.num_image_tokens
    return rows[..., start:end].reshape(*rows.shape[:-1], *maps.grid_size)


def layer_maps(maps: AttentionMaps) -> Tensor:
    """Class token → patches at every layer, heads averaged: [L, B, rows, cols]."""
    return to_patch_grid(maps.attentions.mean(dim=2)[..., 0, :], maps)


def head_maps(maps: AttentionMaps, layer: int) -> Tensor:
    """Class token → patches of every head of ``layer``: [B, H, rows, cols]."""
    return to_patch_grid(maps.attentions[layer][..., 0, :], maps)


def rollout_map(rollout: Tensor, maps: AttentionMaps) -> Tensor:
    """Class token → patches of the rollout [B, T, T]: [B, rows, cols]."""
    return to_patch_grid(rollout[:, 0, :], maps)


def layer_text_share(maps: AttentionMaps) -> Tensor | None:
    """Share of the class token's attention that goes to text (tag) tokens, per layer: [L, B]; None without text."""
    if maps.num_text_tokens <= 0:
        return None
    return maps.attentions.mean(dim=2)[..., 0, maps.num_image_tokens :].sum(dim=-1)


def rollout_text_share(rollout: Tensor, maps: AttentionMaps) -> Tensor | None:
    """Share of the class token's rollout that comes from text (tag) tokens: [B]; None without text."""
    if maps.num_text_tokens <= 0:
        return None
    return rollout[:, 0, maps.num_image_tokens :].sum(dim=-1)
