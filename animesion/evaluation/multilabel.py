"""Multi-label tag metrics, as the WD taggers report them: mAP, F1 at thresholds, F1 where precision equals recall.

Scores are probabilities [N, T] (the sigmoid of a tag head's logits), targets multi-hot [N, T]. Average
precision is the area under each tag's precision-recall steps (every positive's precision at its rank,
averaged: scikit-learn's ``average_precision_score``, written out since scikit-learn is not a dependency);
mAP averages it over the tags with at least one positive. Micro F1 pools every (picture, tag) decision;
macro F1 averages the F1 of each tag with a positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ..data.tag_set import TagSet
from ..prediction.tag_thresholds import counts_at, f1_scores, threshold_at_equal_pr

TAG_TABLE = "tag_table.csv"  # a run folder's per-tag test results (the tag head's)


def average_precision(scores: Tensor, targets: Tensor) -> Tensor:
    """Average precision of every tag [T] (NaN for a tag without a positive); scores, targets [N, T]."""
    order = scores.argsort(dim=0, descending=True)
    hits = targets.gather(0, order).float()  # [N, T] positives in the order of their scores
    precision = hits.cumsum(0) / torch.arange(1, len(scores) + 1, device=scores.device)[:, None]
    positives = hits.sum(0)
    ap = (precision * hits).sum(0) / positives.clamp(min=1)
    return torch.where(positives > 0, ap, torch.full_like(ap, float("nan")))


def micro_macro_f1(scores: Tensor, targets: Tensor, thresholds: Tensor | float) -> tuple[float, float]:
    """Micro F1 (every decision pooled) and macro F1 (mean over tags with a positive) at ``thresholds``."""
    tp, fp, fn = counts_at(scores, targets, thresholds)
    micro = f1_scores(tp.sum(), fp.sum(), fn.sum())
    present = (tp + fn) > 0
    macro = f1_scores(tp, fp, fn)[present].mean() if present.any() else torch.tensor(0.0)
    return float(micro), float(macro)


def tag_metrics(scores: Tensor, targets: Tensor, thresholds: Tensor | float) -> dict[str, float]:
    """``tag_map``, ``tag_micro_f1`` and ``tag_macro_f1`` at ``thresholds``, and ``tag_f1_at_pr`` (micro F1 at
    the pooled precision = recall threshold)."""
    if scores.numel() == 0:
        return {"tag_map": 0.0, "tag_micro_f1": 0.0, "tag_macro_f1": 0.0, "tag_f1_at_pr": 0.0}
    ap = average_precision(scores, targets)
    micro, macro = micro_macro_f1(scores, targets, thresholds)
    at_pr, _ = micro_macro_f1(scores, targets, threshold_at_equal_pr(scores, targets))
    return {"tag_map": float(ap[~ap.isnan()].mean()) if (~ap.isnan()).any() else 0.0, "tag_micro_f1": micro,
            "tag_macro_f1": macro, "tag_f1_at_pr": at_pr}


def per_tag_table(scores: Tensor, targets: Tensor, tag_set: TagSet, thresholds: Tensor) -> pd.DataFrame:
    """One row per tag: its category, support (pictures with it), AP, F1, precision and recall at its
    threshold [T], and the threshold; worst AP first, tags without a positive last."""
    ap = average_precision(scores, targets)
    tp, fp, fn = counts_at(scores, targets, thresholds)
    table = pd.DataFrame({"tag": tag_set.names, "category": tag_set.categories, "support": (tp + fn).int().tolist(),
                          "ap": ap.tolist(), "f1": f1_scores(tp, fp, fn).tolist(),
                          "precision": (tp / (tp + fp).clamp(min=1)).tolist(),
                          "recall": (tp / (tp + fn).clamp(min=1)).tolist(), "threshold": thresholds.tolist(),
                          "train_count": tag_set.counts})
    return table.sort_values(["ap", "support"], ascending=[True, False], na_position="last").reset_index(drop=True)


def pooled_pr_curve(scores: Tensor, targets: Tensor, points: int = 101) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall of every (picture, tag) decision pooled, at ``points`` thresholds from 0 to 1."""
    truth = targets > 0.5
    precision, recall = [], []
    for limit in np.linspace(0, 1, points):
        chosen = scores >= float(limit)
        tp = float((chosen & truth).sum())
        precision.append(tp / max(float(chosen.sum()), 1) if chosen.any() else 1.0)
        recall.append(tp / max(float(truth.sum()), 1))
    return np.array(precision), np.array(recall)


@dataclass
class TagReport:
    """A tag head's results on a split: ``metrics`` (:func:`tag_metrics` at the thresholds used), the per-tag
    ``table`` (:func:`per_tag_table`), and the pooled precision-recall curve with its operating points."""

    metrics: dict[str, float]
    table: pd.DataFrame
    precision: np.ndarray
    recall: np.ndarray
    points: dict[str, tuple[float, float]]

    def worst(self, n: int = 10, min_support: int = 3) -> pd.DataFrame:
        """The ``n`` tags with the lowest AP among those on at least ``min_support`` pictures."""
        return self.table[self.table["support"] >= min_support].head(n)


def tag_report(scores: Tensor, targets: Tensor, tag_set: TagSet, thresholds: Tensor) -> TagReport:
    """The :class:`TagReport` of scores [N, T] and multi-hot targets [N, T] at per-tag ``thresholds`` [T]."""
    precision, recall = pooled_pr_curve(scores, targets)
    points = {}
    for label, limits in (("thresholds used", thresholds), ("precision = recall",
                                                             threshold_at_equal_pr(scores, targets))):
        tp, fp, fn = (float(c.sum()) for c in counts_at(scores, targets, limits))
        points[label] = (tp / max(tp + fn, 1), tp / max(tp + fp, 1))
    return TagReport(tag_metrics(scores, targets, thresholds), per_tag_table(scores, targets, tag_set, thresholds),
                     precision, recall, points)


__all__ = ["TAG_TABLE", "TagReport", "average_precision", "micro_macro_f1", "per_tag_table", "pooled_pr_curve",
           "tag_metrics", "tag_report"]
