"""The masked-tag schedule of a run."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_mask_schedule(curve: pd.DataFrame, title: str = "", ax: Axes | None = None) -> Figure:
    """Share of tag tokens masked at each optimizer step (``curve`` from ``training.masking.schedule_curve``)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(curve["step"], curve["masked"], color="tab:purple")
    ax.fill_between(curve["step"], curve["masked"], color="tab:purple", alpha=0.15)
    ax.set(xlabel="optimizer step", ylabel="masked share of tag tokens", ylim=(-0.02, 1.02),
           title=title or "Tag masking schedule")
    ax.grid(alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure
