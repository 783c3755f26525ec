"""How many tag tokens are masked at each optimizer step, and what a masked token becomes (no torch needed).

A schedule maps an optimizer step to the probability that a tag token is masked:

* ``bert``: 0.15 at every step;
* ``full``: 1 at every step (every tag hidden from the start);
* ``sigmoid``: 0 during the first ``warmup`` steps, 1 during the last ``cooldown`` steps, and in between
  a visible fraction of 0.5·(1 + cos(π·progress)), progress running from 0 to 1.

A masked token becomes the mask id (``masking_behavior='constant'``) or a random vocabulary id
(``'random'``). Both registries are what ``mask_schedule`` and ``masking_behavior`` may name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..registry import Registry


@dataclass(frozen=True)
class ScheduleSteps:
    """Length of training and of the sigmoid schedule's warm-up and cool-down, in optimizer steps."""

    total: int
    warmup: int = 0
    cooldown: int = 0

    @classmethod
    def from_fractions(cls, total: int, warmup: float, cooldown: float) -> ScheduleSteps:
        """``warmup`` and ``cooldown`` as shares of ``total`` (``mask_wu_percent``, ``mask_cd_percent``)."""
        return cls(total, int(total * warmup), int(total * cooldown))


Schedule = Callable[[int, ScheduleSteps], float]  # (step, steps) -> probability that a tag token is masked
MASK_SCHEDULES: Registry[Schedule] = Registry("mask_schedule")


@MASK_SCHEDULES.register("bert")
def bert_schedule(step: int, steps: ScheduleSteps) -> float:
    """Every tag token is masked with probability 0.15, as in BERT."""
    return 0.15


@MASK_SCHEDULES.register("full")
def full_schedule(step: int, steps: ScheduleSteps) -> float:
    """Every tag token is masked from the first step."""
    return 1.0


@MASK_SCHEDULES.register("sigmoid")
def sigmoid_schedule(step: int, steps: ScheduleSteps) -> float:
    """Nothing masked in the warm-up, everything in the cool-down, a cosine ramp in between."""
    if step < steps.warmup:
        return 0.0
    if step >= steps.total - steps.cooldown:
        return 1.0
    progress = (step - steps.warmup) / max(1, steps.total - steps.warmup - steps.cooldown)
    return 1.0 - 0.5 * (1.0 + math.cos(math.pi * progress))


def schedule_curve(schedule: str, steps: ScheduleSteps) -> pd.DataFrame:
    """The masked share of tag tokens at every step: columns ``step`` and ``masked`` (0 to 1)."""
    rule = MASK_SCHEDULES.get(schedule)
    return pd.DataFrame({"step": range(steps.total + 1), "masked": [rule(s, steps) for s in range(steps.total + 1)]})


# (tokens [B, T] LongTensor, mask_id, vocab_size) -> replacement ids [B, T]. Written with tensor methods, so
# this module needs no torch import; ``new_empty(...).random_(0, n)`` is what ``torch.randint_like`` runs.
Replacement = Callable[[Any, int, int], Any]
MASKING_BEHAVIORS: Registry[Replacement] = Registry("masking_behavior")


@MASKING_BEHAVIORS.register("constant")
def constant_replacement(tokens: Any, mask_id: int, vocab_size: int) -> Any:
    """Masked tokens become ``mask_id`` (1, as in the original)."""
    return tokens.new_full(tokens.shape, mask_id)


@MASKING_BEHAVIORS.register("random")
def random_replacement(tokens: Any, mask_id: int, vocab_size: int) -> Any:
    """Masked tokens become a random id of the vocabulary (drawn from torch's global generator)."""
    return tokens.new_empty(tokens.shape).random_(0, vocab_size)


__all__ = ["MASKING_BEHAVIORS", "MASK_SCHEDULES", "ScheduleSteps", "schedule_curve"]
