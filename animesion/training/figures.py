"""The figures of a run folder, written by ``train()`` itself so a terminal or Accelerate run has them too."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..config.train import TrainConfig
from ..data.mask_schedules import ScheduleSteps, schedule_curve
from ..plots.history import plot_history
from ..plots.masking import plot_mask_schedule
from ..plots.save import save_figure
from .run_dir import RunDir


def mask_schedule_curve(config: TrainConfig, total_steps: int) -> pd.DataFrame:
    """The masked share of tag tokens at every step of a run of ``total_steps`` optimizer steps."""
    steps = ScheduleSteps.from_fractions(total_steps, config.mask_wu_percent, config.mask_cd_percent)
    return schedule_curve(config.mask_schedule, steps)


def write_figures(run: RunDir, config: TrainConfig, history: pd.DataFrame, total_steps: int) -> dict[str, Path]:
    """``figures/history.png`` (loss and accuracy per epoch) and, with a ``mask_schedule``,
    ``figures/mask_schedule.png``; returns their paths by name."""
    figures = {"history": plot_history(history)}
    if config.mask_schedule is not None:
        figures["mask_schedule"] = plot_mask_schedule(mask_schedule_curve(config, total_steps),
                                                      f"mask_schedule = '{config.mask_schedule}'")
    paths = {}
    for name, fig in figures.items():
        paths[name] = save_figure(fig, run.path / "figures", f"{name}.png")
        plt.close(fig)
    return paths


__all__ = ["mask_schedule_curve", "write_figures"]
