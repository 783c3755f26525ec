"""Plotting helpers: each takes ``ax``/``axes=None`` and returns the figure; the caller saves or shows."""

from .data import plot_class_histogram, plot_tags_per_image, plot_top_tags
from .evaluation import plot_confused_pairs, plot_per_class
from .history import plot_history
from .images import image_grid, prediction_gallery
from .masking import plot_mask_schedule
from .open_set import plot_reliability, plot_score_histograms
from .save import save_figure

__all__ = ["image_grid", "plot_class_histogram", "plot_confused_pairs", "plot_history", "plot_mask_schedule",
           "plot_per_class", "plot_reliability", "plot_score_histograms", "plot_tags_per_image", "plot_top_tags",
           "prediction_gallery", "save_figure"]
