"""Masked tag prediction: masking a batch of tag tokens by a schedule, and the stateful masker of a run.

Each token is masked independently with the schedule's probability (:mod:`.mask_schedules`), except the
special tokens ([PAD], [CLS], [SEP], [UNK] and the mask id itself), which are never masked. A masked
token's label is its original id; every visible token's label is -100, which cross-entropy ignores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import Tensor

from .mask_schedules import MASK_SCHEDULES, MASKING_BEHAVIORS, ScheduleSteps
from .tag_tokens import IGNORE, special_positions


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


__all__ = ["MaskedTokens", "TagMasker", "mask_tokens"]
