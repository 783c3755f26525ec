"""Tag scores as a person reads them: each picture beside the bar chart of its best tag scores, thresholds marked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..data.dataset import load_dataset
from ..models.checkpoint import load_checkpoint
from ..plots.tags import plot_tag_scores
from ..prediction.predictor import Predictor
from ..prediction.recognise import recognise
from ..prediction.tag_thresholds import thresholds_for


def tag_scores_figure(predictor: Predictor, files: Sequence[str | Path], rule: str | float = "calibrated",
                      top: int = 12) -> Figure:
    """One row per picture of ``files``: the picture with its answer, then its ``top`` tag scores against the
    thresholds of ``rule`` (blue: the tags it gets)."""
    predictor.require_tags()
    images = [predictor.load(f) for f in files]
    answers = recognise(predictor, images, tags=True, tag_rule=rule)
    limits = thresholds_for(answers.tag_scores, predictor.tag_set, predictor.tag_thresholds, rule)
    fig, axes = plt.subplots(len(images), 2, figsize=(9, 0.3 * top * len(images) + 0.6),
                             gridspec_kw={"width_ratios": [1, 2.2]}, squeeze=False)
    for i, (image, file) in enumerate(zip(images, files)):
        axes[i, 0].imshow(image)
        answer = answers.describe(i).replace(", best match", "\nbest match")
        axes[i, 0].set_title(f"{Path(file).name}\n{answer}", fontsize=8)
        axes[i, 0].axis("off")
        plot_tag_scores(predictor.tag_set.names, answers.tag_scores[i].numpy(), limits[i].numpy(), top=top,
                        title=f"{len(answers.tags[i])} tags", ax=axes[i, 1])
    fig.tight_layout()
    return fig


def checkpoint_tag_examples(checkpoint_path: str | Path, count: int = 3, split: str = "test") -> Figure:
    """:func:`tag_scores_figure` of a checkpoint on the first ``count`` pictures of its dataset's ``split``."""
    ckpt = load_checkpoint(checkpoint_path)
    data = load_dataset(ckpt.dataset_name, ckpt.dataset_path, seed=ckpt.seed, progress=False)
    predictor = Predictor.from_checkpoint(ckpt)
    return tag_scores_figure(predictor, [data.image_root / r.path for r in data.splits[split][:count]])


__all__ = ["checkpoint_tag_examples", "tag_scores_figure"]
