"""Plots of a dataset: images per class, tag frequencies, tags per image."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_class_histogram(counts: pd.DataFrame, top: int = 100, title: str = "", ax: Axes | None = None) -> Figure:
    """Bars of the ``top`` largest classes, ordered by their number of images (``counts`` from class_counts)."""
    rows = counts.head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.6))
    ax.bar(np.arange(len(rows)), rows["images"].to_numpy(), color="tab:blue", width=0.85)
    if len(rows) <= 40:  # names fit under the bars
        ax.set_xticks(np.arange(len(rows)), rows["class_name"], rotation=70, ha="right", fontsize=7)
    else:
        ax.set_xlabel("class rank")
    ax.set(ylabel="images per class", title=title or f"The {len(rows)} largest classes, by number of images")
    ax.grid(axis="y", alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


def plot_top_tags(tag_counts: pd.Series, top: int = 30, ax: Axes | None = None) -> Figure:
    """Horizontal bars of the ``top`` most frequent tags (``tag_counts`` from stats.tag_counts)."""
    rows = tag_counts.head(top)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.24 * max(len(rows), 1) + 1.2))
    ax.barh(rows.index[::-1], rows.to_numpy()[::-1], color="tab:green")
    ax.tick_params(axis="y", labelsize=8)
    ax.set(xlabel="images with the tag", title=f"The {len(rows)} most frequent tags")
    ax.figure.tight_layout()
    return ax.figure


def plot_tags_per_image(tags_per_image: pd.Series, ax: Axes | None = None) -> Figure:
    """Distribution of the number of tags per image."""
    counts = tags_per_image.value_counts().sort_index()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    ax.bar(counts.index.to_numpy(), counts.to_numpy(), color="tab:purple")
    ax.set(xlabel="tags per image", ylabel="images",
           title=f"Tags per image (mean {tags_per_image.mean():.1f}, median {tags_per_image.median():.0f})")
    ax.grid(axis="y", alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure
