"""A tag head's figures: one picture's tag scores against their thresholds, and the precision-recall curve."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_tag_scores(names: list[str], scores: np.ndarray, thresholds: np.ndarray, top: int = 12, title: str = "",
                    ax: Axes | None = None) -> Figure:
    """The ``top`` best tag scores of one picture as horizontal bars, each tag's threshold as a black tick:
    a bar past its tick is a tag the picture gets (blue), one short of it is left out (grey)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.28 * top + 0.9))
    order = np.argsort(-np.asarray(scores))[:top][::-1]  # best at the top
    values, limits = np.asarray(scores)[order], np.asarray(thresholds)[order]
    rows = np.arange(len(order))
    ax.barh(rows, values, color=["tab:blue" if v >= t else "lightgrey" for v, t in zip(values, limits)])
    ax.scatter(limits, rows, marker="|", s=160, color="black", label="threshold", zorder=3)
    ax.set_yticks(rows, [names[i] for i in order], fontsize=8)
    ax.set(xlim=(0, 1), xlabel="score (sigmoid)", title=title or "Tag scores")
    ax.legend(fontsize=7, loc="lower right")
    ax.figure.tight_layout()
    return ax.figure


def plot_precision_recall(precision: np.ndarray, recall: np.ndarray, points: dict[str, tuple[float, float]],
                          ax: Axes | None = None) -> Figure:
    """The pooled precision-recall curve of every (picture, tag) decision, with named operating points
    (``{label: (recall, precision)}``, e.g. the calibrated thresholds and precision = recall)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.plot(recall, precision, color="tab:blue", label="all thresholds")
    for (label, (r, p)), marker in zip(points.items(), "os^D"):
        ax.scatter([r], [p], marker=marker, s=50, zorder=3, label=f"{label}: P {p:.2f}, R {r:.2f}")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="recall (tags found)", ylabel="precision (tags right)",
           title="Precision against recall")
    ax.legend(fontsize=7, loc="lower left")
    ax.figure.tight_layout()
    return ax.figure


__all__ = ["plot_precision_recall", "plot_tag_scores"]
