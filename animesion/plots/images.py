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


def _fit(name: str, width: int) -> str:
    """``name`` cut to ``width`` characters (with an ellipsis), so it stays beside its own picture."""
    return name if len(name) <= width else name[: width - 1] + "…"


def prediction_gallery(images: Sequence, top_names: Sequence[Sequence[str]], top_probs: Sequence[Sequence[float]],
                       captions: Sequence[str] | None = None, ncols: int = 2, fontsize: float = 12,
                       name_width: int = 24) -> Figure:
    """Images, each with its top-k predictions and confidences beside it, under an optional caption in bold
    (what the caller says about the picture: its file, ``true: <name>``).

    Two pictures a row make a figure about 11 inches wide, which a notebook shows without shrinking it, so
    ``fontsize`` points stay readable; names longer than ``name_width`` characters are cut.
    """
    n = max(len(images), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, 2 * ncols, figsize=(ncols * 5.6, nrows * 2.6), squeeze=False, layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1.6] * ncols})
    for ax in axes.flat:
        ax.set_axis_off()
    for i, image in enumerate(images):
        img_ax, txt_ax = axes[i // ncols, 2 * (i % ncols)], axes[i // ncols, 2 * (i % ncols) + 1]
        img_ax.imshow(_as_array(image))
        lines = "\n".join(f"{p * 100:5.1f}%  {_fit(name, name_width)}" for name, p in zip(top_names[i], top_probs[i]))
        anchor = txt_ax.text(0.02, 0.97, captions[i] if captions is not None else "", va="top", fontsize=fontsize,
                             weight="bold", transform=txt_ax.transAxes)
        # the predictions start under the caption, however many lines it has
        txt_ax.annotate(lines, xy=(0, 0), xycoords=anchor, xytext=(0, -0.4 * fontsize), textcoords="offset points",
                        va="top", fontsize=fontsize, family="monospace")
    return fig
