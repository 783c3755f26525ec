"""Image grids with labels, and galleries of predictions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from PIL import Image


def _as_array(image: Any) -> np.ndarray:
    """A PIL image, a tensor [3, H, W] in [0, 1] or an array, as an [H, W, 3] array for ``imshow``."""
    if isinstance(image, Image.Image):
        return np.asarray(image)
    if hasattr(image, "permute"):
        return image.permute(1, 2, 0).cpu().numpy()
    return np.asarray(image)


def image_grid(images: Sequence, titles: Sequence[str] | None = None, ncols: int = 8, size: float = 1.6,
               fontsize: int = 7) -> Figure:
    """A grid of images, each with an optional title underneath."""
    n = max(len(images), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * (size + 0.25)), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for i, image in enumerate(images):
        ax = axes.flat[i]
        ax.imshow(_as_array(image))
        if titles is not None:
            ax.set_title(titles[i], fontsize=fontsize)
    fig.tight_layout()
    return fig


def prediction_gallery(images: Sequence, top_names: Sequence[Sequence[str]], top_probs: Sequence[Sequence[float]],
                       captions: Sequence[str] | None = None, ncols: int = 4) -> Figure:
    """Images with their top-k predictions and confidences, under an optional caption (file, true class)."""
    n = max(len(images), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(ncols * 5.0, nrows * 2.2), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.4] * ncols})
    for ax in axes.flat:
        ax.set_axis_off()
    for i, image in enumerate(images):
        img_ax, txt_ax = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        img_ax.imshow(_as_array(image))
        lines = []
        if captions is not None:
            lines.append(captions[i])
        lines += [f"{p * 100:5.1f}%  {name}" for name, p in zip(top_names[i], top_probs[i])]
        txt_ax.text(0, 0.5, "\n".join(lines), va="center", fontsize=8, family="monospace")
    fig.tight_layout()
    return fig
