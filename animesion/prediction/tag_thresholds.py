"""Which tags a picture gets: thresholds on a tag head's scores, calibrated on val and stored in the checkpoint.

* ``calibrated`` (the default): every tag's own threshold, the one that maximises its F1 on val, shrunk
  towards its category's threshold by its number of val positives (``SHRINK`` positives weigh as much as the
  category), so a rare tag does not get a threshold fitted to two pictures. A category's threshold is where
  its pooled precision equals its recall on val, the point the WD taggers report.
* a number: one threshold for every tag (0.35 is the WD taggers' usual default);
* ``mcut``: per picture, halfway across the largest gap between consecutive sorted scores (Largeron et al.,
  2012), which needs no calibration.

Per-category overrides (``{"general": 0.4}``, as kohya's ``--general_threshold``) replace the thresholds of
that category's tags whatever the rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..data.tag_set import TagSet
from ..errors import ConfigError

DEFAULT_THRESHOLD = 0.35  # the WD taggers' usual global threshold: what a head without a calibration uses
SHRINK = 10.0  # val positives at which a tag's own best threshold and its category's weigh the same
CANDIDATES = torch.linspace(0.02, 0.98, 49)  # thresholds tried for each tag's best F1
RULES = ("calibrated", "mcut")  # the named rules; any number in (0, 1) is a rule too


def counts_at(scores: Tensor, targets: Tensor, thresholds: Tensor | float) -> tuple[Tensor, Tensor, Tensor]:
    """True positives, false positives and false negatives of every tag [T] when ``scores ≥ thresholds``
    ([T] or one number)."""
    chosen, truth = scores >= thresholds, targets > 0.5
    return (chosen & truth).sum(0).float(), (chosen & ~truth).sum(0).float(), (~chosen & truth).sum(0).float()


def f1_scores(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
    """F1 from counts (elementwise); 0 where there is nothing to count."""
    return 2 * tp / (2 * tp + fp + fn).clamp(min=1)


def threshold_at_equal_pr(scores: Tensor, targets: Tensor) -> float:
    """The threshold where pooled precision equals recall: the score of the P-th best decision, P being the
    number of positives (then as many decisions are made as there are positives)."""
    positives = int((targets > 0.5).sum())
    flat = scores.flatten()
    if positives == 0 or len(flat) == 0:
        return 1.0
    return float(flat.topk(min(positives, len(flat))).values[-1])


@dataclass
class TagThresholds:
    """The calibrated thresholds: ``per_tag`` [T] and ``per_category`` (category → threshold)."""

    per_tag: Tensor
    per_category: dict[str, float]

    def to_meta(self) -> dict[str, object]:
        return {"per_tag": [round(float(t), 4) for t in self.per_tag], "per_category": self.per_category}

    @classmethod
    def from_meta(cls, meta: dict) -> TagThresholds:
        return cls(torch.tensor(meta["per_tag"], dtype=torch.float32), dict(meta["per_category"]))


def calibrate_thresholds(scores: Tensor, targets: Tensor, tag_set: TagSet) -> TagThresholds:
    """Thresholds from the val pictures' tag scores [N, T] and multi-hot targets [N, T] (see the module doc)."""
    categories = torch.tensor([sorted(set(tag_set.categories)).index(c) for c in tag_set.categories])
    per_category = {}
    for k, name in enumerate(sorted(set(tag_set.categories))):
        chosen = categories == k
        per_category[name] = threshold_at_equal_pr(scores[:, chosen], targets[:, chosen]) if len(scores) else \
            DEFAULT_THRESHOLD
    # F1 of every tag at every candidate threshold: [C, T] (one candidate at a time keeps memory at N × T)
    f1 = torch.stack([f1_scores(*counts_at(scores, targets, float(c))) for c in CANDIDATES])
    best = CANDIDATES[f1.argmax(0)]  # [T]
    positives = (targets > 0.5).sum(0).float()
    fallback = torch.tensor([per_category[c] for c in tag_set.categories])
    per_tag = (positives * best + SHRINK * fallback) / (positives + SHRINK)
    return TagThresholds(per_tag, {k: round(v, 4) for k, v in per_category.items()})


def parse_rule(rule: str | float) -> str | float:
    """A ``tag_threshold`` value checked: a number in (0, 1), or one of :data:`RULES`; ConfigError otherwise."""
    if isinstance(rule, str) and rule in RULES:
        return rule
    try:
        value = float(rule)
    except (TypeError, ValueError):
        raise ConfigError(f"tag_threshold must be a number in (0, 1) or one of {', '.join(RULES)}; got {rule!r}.") \
            from None
    if not 0 < value < 1:
        raise ConfigError(f"tag_threshold must lie in (0, 1), got {value}.")
    return value


def mcut(scores: Tensor) -> Tensor:
    """Per picture [N, 1]: the midpoint of the largest gap between its consecutive sorted scores [N, T]."""
    ordered = scores.sort(dim=1, descending=True).values
    if ordered.shape[1] < 2:
        return torch.full((len(scores), 1), DEFAULT_THRESHOLD)
    gap = ordered[:, :-1] - ordered[:, 1:]
    k = gap.argmax(dim=1, keepdim=True)
    return (ordered.gather(1, k) + ordered.gather(1, k + 1)) / 2


def thresholds_for(scores: Tensor, tag_set: TagSet, calibrated: TagThresholds | None, rule: str | float,
                   overrides: dict[str, float] | None = None) -> Tensor:
    """The threshold of every picture and tag [N, T] under ``rule`` and the per-category ``overrides``.

    ``calibrated`` None (a head trained before calibration, or never validated) falls back to
    :data:`DEFAULT_THRESHOLD` for the ``calibrated`` rule.
    """
    rule = parse_rule(rule)
    n, t = scores.shape
    if rule == "mcut":
        limits = mcut(scores).expand(n, t).clone()
    elif rule == "calibrated":
        per_tag = calibrated.per_tag if calibrated is not None else torch.full((t,), DEFAULT_THRESHOLD)
        limits = per_tag[None].expand(n, t).clone()
    else:
        limits = torch.full((n, t), float(rule))
    for category, value in (overrides or {}).items():
        limits[:, [c == category for c in tag_set.categories]] = float(value)
    return limits


__all__ = ["DEFAULT_THRESHOLD", "RULES", "TagThresholds", "calibrate_thresholds", "counts_at", "f1_scores", "mcut",
           "parse_rule", "thresholds_for", "threshold_at_equal_pr"]
