"""Masked tag prediction: schedules that decide how many tag tokens are hidden, and the stateful masker.

A schedule maps an optimizer step to the probability that a tag token is masked:

* ``bert``: 0.15 at every step;
* ``full``: 1 at every step (every tag hidden from the start);
* ``sigmoid``: 0 during the first ``warmup`` steps, 1 during the last ``cooldown`` steps, and in between
  a visible fraction of 0.5·(1 + cos(π·progress)), progress running from 0 to 1.

Each token is masked independently with that probability, except the special tokens ([PAD], [CLS],
[SEP], [UNK] and the mask id itself), which are never masked. A masked token becomes the mask id
(``masking_behavior='constant'``) or a random vocabulary id (``'random'``); its label is the original
id, and every visible token's label is -100, which cross-entropy ignores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from ..config.train import TrainConfig
from ..data.tag_tokens import IGNORE, special_positions
from ..errors import ConfigError
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


Replacement = Callable[[Tensor, int, int], Tensor]  # (tokens, mask_id, vocab_size) -> replacement ids
MASKING_BEHAVIORS: Registry[Replacement] = Registry("masking_behavior")


@MASKING_BEHAVIORS.register("constant")
def constant_replacement(tokens: Tensor, mask_id: int, vocab_size: int) -> Tensor:
    """Masked tokens become ``mask_id`` (1, as in the original)."""
    return torch.full_like(tokens, mask_id)


@MASKING_BEHAVIORS.register("random")
def random_replacement(tokens: Tensor, mask_id: int, vocab_size: int) -> Tensor:
    """Masked tokens become a random id of the vocabulary (drawn from torch's global generator)."""
    return torch.randint_like(tokens, vocab_size)


@dataclass
class MaskedTokens:
    """``inputs`` [B, T]: the ids the model reads. ``labels`` [B, T]: the true id where masked, else -100."""

    inputs: Tensor
    labels: Tensor

    @property
    def masked(self) -> Tensor:
        """[B, T] bool: the positions the model has to predict."""
        return self.labels != IGNORE


def mask_tokens(tokens: Tensor, probability: float, *, mask_id: int, vocab_size: int, special_ids: Iterable[int],
                behavior: str = "constant", generator: torch.Generator | None = None) -> MaskedTokens:
    """Mask each non-special token of ``tokens`` [B, T] with ``probability``.

    Which positions are masked comes from ``torch.rand(tokens.shape, generator=generator) < probability``
    (on the CPU), so 0 masks nothing and 1 masks every non-special token.
    """
    maskable = ~special_positions(tokens, special_ids)
    draw = torch.rand(tokens.shape, generator=generator).to(tokens.device)  # drawn on the CPU: same on any device
    masked = (draw < probability) & maskable
    replacement = MASKING_BEHAVIORS.get(behavior)(tokens, mask_id, vocab_size)
    return MaskedTokens(torch.where(masked, replacement, tokens), torch.where(masked, tokens, IGNORE))


class TagMasker:
    """Masks the tag tokens of each training batch by ``schedule``; counts optimizer steps.

    Stateful (``state_dict``/``load_state_dict`` hold the step), so a resumed run continues the
    schedule where it stopped.
    """

    def __init__(self, schedule: str, steps: ScheduleSteps, *, mask_id: int, vocab_size: int,
                 special_ids: Iterable[int], behavior: str = "constant") -> None:
        self.schedule_name = schedule
        self.schedule = MASK_SCHEDULES.get(schedule)
        MASKING_BEHAVIORS.get(behavior)  # an unknown behaviour fails here, not at the first batch
        self.steps = steps
        self.behavior = behavior
        self.mask_id, self.vocab_size, self.special_ids = mask_id, vocab_size, frozenset(special_ids)
        self.step = 0

    def probability(self, step: int | None = None) -> float:
        """Probability that a tag token is masked at ``step`` (default: the current step)."""
        return self.schedule(self.step if step is None else step, self.steps)

    @property
    def settled(self) -> bool:
        """True once the masking is in its final state (the sigmoid's cool-down; always for bert and full)."""
        return self.probability() == self.probability(self.steps.total)

    def __call__(self, tokens: Tensor, generator: torch.Generator | None = None) -> MaskedTokens:
        """Mask ``tokens`` [B, T] at the current step."""
        return mask_tokens(tokens, self.probability(), mask_id=self.mask_id, vocab_size=self.vocab_size,
                           special_ids=self.special_ids, behavior=self.behavior, generator=generator)

    def advance(self) -> None:
        """Count one optimizer step."""
        self.step += 1

    def state_dict(self) -> dict[str, int]:
        return {"step": self.step}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.step = int(state["step"])


def schedule_curve(schedule: str, steps: ScheduleSteps) -> pd.DataFrame:
    """The masked share of tag tokens at every step: columns ``step`` and ``masked`` (0 to 1)."""
    rule = MASK_SCHEDULES.get(schedule)
    return pd.DataFrame({"step": range(steps.total + 1), "masked": [rule(s, steps) for s in range(steps.total + 1)]})


def mask_schedule_curve(config: TrainConfig, total_steps: int) -> pd.DataFrame:
    """:func:`schedule_curve` of ``config.mask_schedule`` over a run of ``total_steps`` optimizer steps."""
    if config.mask_schedule is None:
        raise ConfigError("mask_schedule is None: this run masks no tags, so it has no schedule to show.")
    steps = ScheduleSteps.from_fractions(total_steps, config.mask_wu_percent, config.mask_cd_percent)
    return schedule_curve(config.mask_schedule, steps)


__all__ = ["IGNORE", "MASKING_BEHAVIORS", "MASK_SCHEDULES", "MaskedTokens", "ScheduleSteps", "TagMasker",
           "mask_schedule_curve", "mask_tokens", "schedule_curve"]
