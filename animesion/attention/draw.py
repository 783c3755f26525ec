"""Drawing attention: heat maps over the picture, per layer, per head, rolled out, and tag shares.

Every function takes ``ax``/``axes=None`` and returns the figure; nothing here computes attention.
Heat maps are stretched min-to-max per map, so each shows where that map looks, not how strongly
compared with another map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor

HEAT_CMAP = "inferno"


def _stretch(heat: Tensor | np.ndarray) -> np.ndarray:
    heat = np.asarray(heat, dtype=np.float32)
    span = heat.max() - heat.min()
    return (heat - heat.min()) / span if span > 0 else np.zeros_like(heat)


def overlay(image: Image.Image, heat: Tensor | np.ndarray, ax: Axes | None = None, title: str = "",
            alpha: float = 0.6) -> Figure:
    """``image`` with ``heat`` [rows, cols] stretched over it (the model saw the image squashed to a square)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(3, 3))
    width, height = image.size
    ax.imshow(image)
    ax.imshow(_stretch(heat), cmap=HEAT_CMAP, alpha=alpha, extent=(0, width, height, 0), interpolation="bilinear")
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
    return ax.figure


def _grid(n: int, ncols: int, size: float) -> tuple[Figure, np.ndarray]:
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.3)), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes.flatten()


def plot_layer_maps(image: Image.Image, maps: Tensor, text_share: Sequence[float] | None = None,
                    title: str = "", ncols: int = 6, axes: Sequence[Axes] | None = None) -> Figure:
    """The class token's attention to the patches at every layer (heads averaged): maps [L, rows, cols].

    ``text_share`` [L]: share going to tag tokens per layer, written under each map (multimodal models).
    """
    if axes is None:
        fig, axes = _grid(len(maps), ncols, 2.0)
    for i, heat in enumerate(maps):
        label = f"layer {i + 1}" + (f"\ntags {text_share[i] * 100:.0f}%" if text_share is not None else "")
        overlay(image, heat, axes[i], label)
    fig = axes[0].figure
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_heads(image: Image.Image, maps: Tensor, layer: int, title: str = "", ncols: int = 6,
               axes: Sequence[Axes] | None = None) -> Figure:
    """The class token's attention to the patches of every head of one layer: maps [H, rows, cols]."""
    if axes is None:
        fig, axes = _grid(len(maps), ncols, 2.0)
    for h, heat in enumerate(maps):
        overlay(image, heat, axes[h], f"layer {layer + 1}, head {h + 1}")
    fig = axes[0].figure
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_rollout(image: Image.Image, heat: Tensor, top_names: Sequence[str], top_probs: Sequence[float],
                 title: str = "", text_share: float | None = None, axes: Sequence[Axes] | None = None) -> Figure:
    """The picture, its attention rollout [rows, cols], and the top-k predictions with confidences."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(9, 3), gridspec_kw={"width_ratios": [1, 1, 1.3]})
    img_ax, heat_ax, bar_ax = axes
    img_ax.imshow(image)
    img_ax.set_title(title, fontsize=8)
    img_ax.set_axis_off()
    label = "rollout" + (f" (tags {text_share * 100:.0f}%)" if text_share is not None else "")
    overlay(image, heat, heat_ax, label)
    positions = np.arange(len(top_names))[::-1]
    bar_ax.barh(positions, [p * 100 for p in top_probs], color="tab:blue")
    bar_ax.set_yticks(positions, list(top_names), fontsize=8)
    bar_ax.set(xlim=(0, 100), xlabel="confidence (%)", title=f"top-{len(top_names)}")
    fig = bar_ax.figure
    fig.tight_layout()
    return fig


def plot_attention_matrix(attention: Tensor, num_prefix_tokens: int, num_image_tokens: int, title: str = "",
                          ax: Axes | None = None) -> Figure:
    """One head's raw token-to-token attention [T, T]; lines mark where patches and tag tokens begin."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    shown = ax.imshow(np.asarray(attention, dtype=np.float32), cmap="viridis", interpolation="nearest")
    ax.figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.04)
    boundaries = [num_prefix_tokens]
    if attention.shape[-1] > num_image_tokens:
        boundaries.append(num_image_tokens)
    for b in boundaries:
        ax.axhline(b - 0.5, color="white", lw=0.8)
        ax.axvline(b - 0.5, color="white", lw=0.8)
    ax.set(xlabel="key token (attended to)", ylabel="query token", title=title)
    ax.figure.tight_layout()
    return ax.figure


def plot_text_share(shares: Tensor, labels: Sequence[str], ax: Axes | None = None) -> Figure:
    """Share of the class token's attention that goes to tag tokens, per layer: shares [L, B], one line per image."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    layers = np.arange(1, shares.shape[0] + 1)
    for b, label in enumerate(labels):
        ax.plot(layers, np.asarray(shares[:, b]) * 100, "o-", label=label)
    ax.set(xlabel="layer", ylabel="attention to tags (%)", ylim=(0, 100), title="Class token → tag tokens")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.figure.tight_layout()
    return ax.figure


def plot_attention_view(image: Image.Image, head_heat: Tensor, layer_heat: Tensor, rollout_heat: Tensor,
                        layer: int, head: int, title: str = "", axes: Sequence[Axes] | None = None) -> Figure:
    """One head, its layer's average and the rollout side by side (what the 06 browser redraws)."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(8, 3))
    overlay(image, head_heat, axes[0], f"layer {layer + 1}, head {head + 1}")
    overlay(image, layer_heat, axes[1], f"layer {layer + 1}, heads averaged")
    overlay(image, rollout_heat, axes[2], "rollout")
    fig = axes[0].figure
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
