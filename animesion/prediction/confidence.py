"""A confidence a person can read: the chance, from 0 to 1, that an answer is right.

A picture's best score (a cosine similarity to the nearest prototype) is not a probability, and the softmax
of the scores at a temperature is fitted to rank names, not to say how often the first one is right.
:class:`Confidence` maps the best score to the share of right answers given at that score: a logistic curve
``sigmoid(slope · score + intercept)`` (Platt scaling, two numbers) fitted on the validation pictures at the
end of training, where the answer is known. So of the answers given at 0.8, about 80% are right on pictures
like the validation split; 04 draws the check on the test split (:func:`reliability`).

For an ``unknown`` answer the confidence is that of *not* being the best match: ``1 − confidence(score)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

BINS = 10  # confidence bins of the reliability check (0–0.1, …, 0.9–1)


@dataclass(frozen=True)
class Confidence:
    """``sigmoid(slope · score + intercept)``: the chance that the answer with best score ``score`` is right."""

    slope: float
    intercept: float

    def __call__(self, score: Tensor) -> Tensor:
        return torch.sigmoid(self.slope * score.float() + self.intercept)

    def of_answers(self, score: Tensor, unknown: Tensor) -> Tensor:
        """The confidence [N] of each answer given: named (right) or ``unknown`` (not the best match)."""
        return answer_confidence(self(score), unknown)

    def shifted(self, offset: float) -> Confidence:
        """The same curve read on ``score − offset``: ``shifted(t)(score − t) == self(score)``."""
        return Confidence(self.slope, self.intercept + self.slope * offset)

    def to_meta(self) -> list[float]:
        return [self.slope, self.intercept]

    @classmethod
    def from_meta(cls, stored: list[float]) -> Confidence:
        return cls(float(stored[0]), float(stored[1]))


def answer_confidence(named: Tensor, unknown: Tensor) -> Tensor:
    """The confidence [N] of the answers given, from the chance [N] that each best match is right: that chance
    for a named answer, its complement for ``unknown``."""
    return torch.where(unknown, 1 - named, named)


def fit_confidence(score: Tensor, right: Tensor, steps: int = 100) -> Confidence:
    """The logistic curve [N] ``score`` → P(``right``) of the highest likelihood (torch's L-BFGS on two numbers).

    With only right (or only wrong) answers there is nothing to fit: the curve is flat at the share of right
    answers, softened by one imagined answer of the other kind so that it never says 1 or 0 outright.
    """
    score, right = score.float().flatten(), right.float().flatten()
    if len(score) == 0:
        return Confidence(0.0, 0.0)
    share = (right.sum() + 0.5) / (len(right) + 1)
    if right.min() == right.max():
        return Confidence(0.0, float(torch.logit(share)))
    # Centre and scale the scores so one step size suits every embedding space; fold it back at the end.
    mean, std = score.mean(), score.std().clamp(min=1e-6)
    params = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.LBFGS([params], max_iter=steps, line_search_fn="strong_wolfe")

    def loss() -> Tensor:
        optimizer.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(params[0] * (score - mean) / std + params[1],
                                                                     right)
        value.backward()
        return value

    optimizer.step(loss)
    slope, intercept = params.detach().tolist()
    return Confidence(slope / float(std), intercept - slope * float(mean / std))


def reliability(confidence: Tensor, right: Tensor, bins: int = BINS) -> pd.DataFrame:
    """The reliability table of answers with ``confidence`` [N] and whether each was ``right`` [N]: per bin of
    confidence, the answers in it, their mean confidence and the share that was right."""
    confidence, right = confidence.float().flatten(), right.float().flatten()
    index = (confidence * bins).long().clamp(max=bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        count = int(inside.sum())
        rows.append({"bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}", "answers": count,
                     "mean_confidence": float(confidence[inside].mean()) if count else float("nan"),
                     "share_right": float(right[inside].mean()) if count else float("nan")})
    return pd.DataFrame(rows)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """The answers' average gap between confidence and the share right, weighted by the answers in each bin."""
    used = table[table["answers"] > 0]
    if used.empty:
        return float("nan")
    gaps = (used["mean_confidence"] - used["share_right"]).abs()
    return float((gaps * used["answers"]).sum() / used["answers"].sum())


__all__ = ["BINS", "Confidence", "answer_confidence", "expected_calibration_error", "fit_confidence", "reliability"]
