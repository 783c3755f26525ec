"""How well a checkpoint knows what it does not know: retrieval by embedding, and known against unknown.

* ``recall@k``: for each test picture, are any of its ``k`` nearest training pictures (cosine, in the
  checkpoint's open-set space) of its own character? This is how well enrolment by a few pictures works.
* known vs unknown: the best open-set score of the test pictures (known characters) and of pictures of
  characters outside the training set; the AUROC says how well the score separates them (1 perfect, 0.5
  chance), and the shares called ``unknown`` at the calibrated threshold say what 05 will answer.
* reliability: the split's pictures named among the characters with the confidence 05 gives each answer,
  grouped by confidence; in each group the share named right should be close to the mean confidence (the
  expected calibration error, ECE, is the average gap).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from ..prediction.confidence import expected_calibration_error


def recall_at_k(queries: Tensor, query_labels: Tensor, references: Tensor, reference_labels: Tensor,
                ks: tuple[int, ...] = (1, 5), chunk: int = 1024) -> dict[int, float]:
    """Share of ``queries`` [N, D] whose ``k`` most similar ``references`` [M, D] hold one of their class.

    Both are unit vectors, so similarity is the dot product; queries are compared in chunks to bound memory.
    """
    k_max = min(max(ks), len(references))
    hits = {k: 0 for k in ks}
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ references.T  # [n, M]
        nearest = reference_labels[sims.topk(k_max, dim=-1).indices]  # [n, k_max]
        same = nearest == query_labels[start:start + chunk, None]
        for k in ks:
            hits[k] += int(same[:, :k].any(dim=-1).sum())
    return {k: hits[k] / max(len(queries), 1) for k in ks}


def auroc(positive: Tensor, negative: Tensor) -> float:
    """Area under the ROC curve of scores where ``positive`` should be high and ``negative`` low.

    The Mann–Whitney form: the chance that a random positive outscores a random negative, ties counted
    half, computed from the ranks of all scores (average ranks for ties).
    """
    scores = torch.cat([positive, negative]).double()
    order = scores.argsort()
    ranks = torch.empty_like(scores)
    ranks[order] = torch.arange(1, len(scores) + 1, dtype=torch.double)
    for value in scores[order].unique_consecutive():  # average ranks for ties
        tied = scores == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


@dataclass
class OpenSetReport:
    """A checkpoint's open-set figures on one split (see the module docstring); the unknown part is None
    without pictures of other characters (``unknown_path``)."""

    recall: dict[int, float]
    threshold: float
    known_scores: Tensor
    known_called_unknown: float
    unknown_scores: Tensor | None = None
    unknown_called_unknown: float | None = None
    auroc: float | None = None
    unknown_files: int = 0
    reliability: pd.DataFrame | None = None  # None: a calibration written before confidences were fitted

    def summary(self) -> dict[str, float]:
        """The figures by name, for ``open_set.json`` and the notebook."""
        values = {f"recall@{k}": v for k, v in self.recall.items()}
        values |= {"threshold": self.threshold, "known_called_unknown": self.known_called_unknown}
        if self.auroc is not None:
            values |= {"auroc_known_vs_unknown": self.auroc, "unknown_called_unknown": self.unknown_called_unknown,
                       "unknown_pictures": self.unknown_files}
        if self.reliability is not None:
            values |= {"confidence_calibration_error": expected_calibration_error(self.reliability)}
        return values


__all__ = ["OpenSetReport", "auroc", "recall_at_k"]
