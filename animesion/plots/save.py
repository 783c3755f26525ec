"""Saving figures next to a run's other outputs."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure


def save_figure(fig: Figure, folder: str | Path, name: str) -> Path:
    """Save ``fig`` as ``folder/name`` (PNG, 120 dpi), creating the folder; return the path."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    return path
