"""Training curves."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def plot_history(history: pd.DataFrame, axes: Sequence[Axes] | None = None) -> Figure:
    """Loss (train, val) and top-1 accuracy (train, val, val top-5) per epoch, side by side."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    loss_ax, acc_ax = axes
    for ax in axes:
        ax.clear()
    epochs = history["epoch"]
    loss_ax.plot(epochs, history["train_loss"], "o-", label="train")
    loss_ax.plot(epochs, history["val_loss"], "o-", label="val")
    loss_ax.set(xlabel="epoch", ylabel="loss", title="Loss")
    acc_ax.plot(epochs, history["train_top1"], "o-", label="train top-1")
    acc_ax.plot(epochs, history["val_top1"], "o-", label="val top-1")
    acc_ax.plot(epochs, history["val_top5"], "--", label="val top-5")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy", ylim=(0, 101))
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig = loss_ax.figure
    fig.tight_layout()
    return fig
