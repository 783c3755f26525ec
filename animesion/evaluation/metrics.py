"""Metrics from :class:`Predictions`: top-k, per-class accuracy and confusions, all vectorised."""

from __future__ import annotations

import pandas as pd
import torch

from ..prediction.predictions import Predictions


def summary(preds: Predictions) -> dict[str, float]:
    """Loss, top-1 and top-5 in percent (as the original reports them), and the sample count."""
    n = len(preds.labels)
    if n == 0:
        return {"loss": float("nan"), "top1": float("nan"), "top5": float("nan"), "samples": 0}
    return {
        "loss": preds.loss.mean().item(),
        "top1": 100.0 * preds.correct1.float().mean().item(),
        "top5": 100.0 * preds.correct5.float().mean().item(),
        "samples": n,
    }


def per_class_accuracy(preds: Predictions, class_names: list[str]) -> pd.DataFrame:
    """One row per class: class_id, class_name, samples, top-1 accuracy in percent (NaN when no samples)."""
    c = len(class_names)
    samples = torch.bincount(preds.labels, minlength=c)
    correct = torch.bincount(preds.labels[preds.correct1], minlength=c)
    acc = torch.where(samples > 0, 100.0 * correct / samples.clamp(min=1), torch.tensor(float("nan")))
    return pd.DataFrame(
        {"class_id": range(c), "class_name": class_names, "samples": samples.numpy(), "accuracy": acc.numpy()}
    )


def confused_pairs(preds: Predictions, class_names: list[str], top: int = 10) -> pd.DataFrame:
    """The most frequent (true → predicted) mistakes; ties are listed in class order.

    Only the pairs that occur are counted (``torch.unique`` over pair ids), so the cost follows the
    number of mistakes, not the classes² possible pairs (10.6 million for 3263 classes).
    """
    c = len(class_names)
    wrong = ~preds.correct1
    ids, counts = torch.unique(preds.labels[wrong] * c + preds.topk_idx[wrong, 0], return_counts=True)
    order = torch.argsort(counts, descending=True, stable=True)[:top]  # ids are sorted, so ties keep class order
    ids, values = ids[order], counts[order]
    true, pred = (ids // c).tolist(), (ids % c).tolist()
    return pd.DataFrame({
        "true": [class_names[i] for i in true], "predicted": [class_names[i] for i in pred], "count": values.tolist(),
    })
