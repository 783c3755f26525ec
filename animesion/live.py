"""A live loss/accuracy plot for notebooks: one figure, redrawn in place after every epoch."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .plots.history import plot_history


class LivePlot:
    """Training callback that redraws :func:`plot_history` in one notebook output after each epoch.

    Outside IPython it does nothing, so scripts can pass it too.
    """

    def __init__(self) -> None:
        self.fig, self.axes = plt.subplots(1, 2, figsize=(11, 3.8))
        plt.close(self.fig)  # shown through the display handle only, not again at the end of the cell
        self.handle = None

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        """Redraw the curves and update the notebook output in place."""
        plot_history(history, axes=self.axes)
        try:
            from IPython.display import display
        except ImportError:
            return
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)
