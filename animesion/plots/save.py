"""Saving figures next to a run's other outputs."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from ..atomic import atomic_write


def save_figure(fig: Figure, folder: str | Path, name: str) -> Path:
    """Save ``fig`` as ``folder/name`` (PNG, 120 dpi) atomically, creating the folder; return the path."""
    return atomic_write(Path(folder) / name, lambda tmp: fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight"))
