"""Tag prediction quality: the predicted tag set of each image against its true tags.

Both are multi-hot matrices [N, V] over the tag vocabulary (tags outside it cannot be predicted and
are left out of both). Micro scores pool every (image, tag) decision; macro scores average the
per-tag scores over the tags that occur in the truth or the predictions (a tag that is never true
and never predicted has no defined precision or recall). Scores are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..data.vocab import Vocabulary

TAG_METRICS = ("tag_micro_precision", "tag_micro_recall", "tag_micro_f1",
               "tag_macro_precision", "tag_macro_recall", "tag_macro_f1")


def multi_hot(tag_lists: Sequence[Sequence[str]], vocab: Vocabulary) -> Tensor:
    """Bool [N, len(vocab)]: True where image n has the tag (tags outside ``vocab`` are ignored)."""
    rows = [n for n, tags in enumerate(tag_lists) for tag in tags if tag in vocab]
    cols = [vocab.id(tag) for tags in tag_lists for tag in tags if tag in vocab]
    matrix = torch.zeros(len(tag_lists), len(vocab), dtype=torch.bool)
    matrix[rows, cols] = True
    return matrix


def _ratio(num: Tensor, den: Tensor) -> Tensor:
    return torch.where(den > 0, num / den.clamp(min=1), torch.zeros_like(num))


def tag_scores(pred: Tensor, true: Tensor) -> dict[str, float]:
    """Micro and macro precision, recall and F1 of multi-hot ``pred`` against ``true`` (both bool [N, V])."""
    tp = (pred & true).sum(dim=0).double()  # [V]
    fp = (pred & ~true).sum(dim=0).double()
    fn = (~pred & true).sum(dim=0).double()
    micro_p, micro_r = _ratio(tp.sum(), tp.sum() + fp.sum()), _ratio(tp.sum(), tp.sum() + fn.sum())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)  # [V]
    f1 = _ratio(2 * precision * recall, precision + recall)
    seen = (tp + fp + fn) > 0
    macro = [values[seen].mean() if seen.any() else tp.new_zeros(()) for values in (precision, recall, f1)]
    scores = (micro_p, micro_r, _ratio(2 * micro_p * micro_r, micro_p + micro_r), *macro)
    return {name: float(value) for name, value in zip(TAG_METRICS, scores)}


def tag_metrics(predicted: Sequence[Sequence[str]], true: Sequence[Sequence[str]],
                vocab: Vocabulary) -> dict[str, float]:
    """:func:`tag_scores` of predicted against true tag lists (one list per image)."""
    return tag_scores(multi_hot(predicted, vocab), multi_hot(true, vocab))


__all__ = ["TAG_METRICS", "multi_hot", "tag_metrics", "tag_scores"]
