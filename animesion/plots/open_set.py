"""The open-set scores of known and unknown pictures, with the threshold that separates them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
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


def plot_reliability(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """The reliability diagram of a ``reliability`` table: per confidence bin, the share of answers that were
    right against the bin's mean confidence (on the diagonal when the confidence means what it says), the
    number of answers written on each bar."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.2))
    used = table[table["answers"] > 0]
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="confidence means what it says")
    ax.bar(used["mean_confidence"], used["share_right"], width=0.08, color="tab:blue", alpha=0.75,
           label="share of answers right")
    for x, y, n in zip(used["mean_confidence"], used["share_right"], used["answers"]):
        ax.annotate(str(n), (x, y), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8)
    ax.set(xlim=(0, 1), ylim=(0, 1.08), xlabel="confidence of the answer (mean of its bin)",
           ylabel="share of the answers that were right", title="Does the confidence mean what it says?")
    ax.legend(fontsize=8, loc="upper left")
    ax.figure.tight_layout()
    return ax.figure
