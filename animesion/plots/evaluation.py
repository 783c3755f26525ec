"""Per-class accuracy and confusion plots."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_per_class(per_class: pd.DataFrame, worst: int = 15, ax: Axes | None = None) -> Figure:
    """Horizontal bars of the ``worst`` classes by accuracy (classes with samples only)."""
    rows = per_class.dropna(subset=["accuracy"]).nsmallest(worst, "accuracy")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * len(rows) + 1.2))
    sns.barplot(data=rows, y="class_name", x="accuracy", ax=ax, color="tab:red", orient="h")
    ax.set(xlabel="top-1 accuracy (%)", ylabel="", title=f"The {len(rows)} hardest classes", xlim=(0, 100))
    for i, (acc, n) in enumerate(zip(rows["accuracy"], rows["samples"])):
        ax.text(min(acc + 1, 85), i, f"{acc:.0f}% of {n}", va="center", fontsize=8)
    ax.figure.tight_layout()
    return ax.figure


def plot_confused_pairs(pairs: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """Bars of the most frequent (true → predicted) mistakes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.3 * max(len(pairs), 1) + 1.2))
    if pairs.empty:
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        ax.set_axis_off()
        return ax.figure
    labels = [f"{t} → {p}" for t, p in zip(pairs["true"], pairs["predicted"])]
    ax.barh(labels[::-1], pairs["count"].tolist()[::-1], color="tab:orange")
    ax.set(xlabel="images", title="Most confused pairs (true → predicted)")
    ax.figure.tight_layout()
    return ax.figure
