"""The open-set scores of known and unknown pictures, with the threshold that separates them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_score_histograms(known: np.ndarray, unknown: np.ndarray | None, threshold: float,
                          ax: Axes | None = None) -> Figure:
    """Histograms of the best score of known pictures (and of unknown ones), the threshold as a line."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.4))
    values = [np.asarray(known)] + ([np.asarray(unknown)] if unknown is not None and len(unknown) else [])
    bins = np.linspace(min(v.min() for v in values), max(v.max() for v in values), 30)
    ax.hist(values[0], bins=bins, alpha=0.6, color="tab:blue", label=f"known characters ({len(values[0])})")
    if len(values) > 1:
        ax.hist(values[1], bins=bins, alpha=0.6, color="tab:red", label=f"other characters ({len(values[1])})")
    ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.2f}")
    ax.set(xlabel="best score (cosine similarity to the nearest character)", ylabel="pictures",
           title="Known and unknown characters")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax.figure
