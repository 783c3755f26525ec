"""Learning-rate schedules of the original, registered by ``lr_scheduler``; both step every optimizer step.

A schedule is the factor the peak learning rate is multiplied by at a step, as plain arithmetic (no
torch here, so configs can list the names); ``torch.optim.lr_scheduler.LambdaLR`` applies it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ..registry import Registry

Schedule = Callable[..., float]  # (step, *, total_steps, warmup_steps, steps_per_epoch, epoch_decay) -> factor
LR_SCHEDULES: Registry[Schedule] = Registry("lr_scheduler")


@LR_SCHEDULES.register("warmupCosine")
def warmup_cosine(step: int, *, total_steps: int, warmup_steps: int, **_: int) -> float:
    """Linear warm-up from 0 over ``warmup_steps``, then half a cosine down to 0 at ``total_steps``."""
    warmup = min(warmup_steps, max(total_steps - 1, 0))
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total_steps - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


@LR_SCHEDULES.register("epochDecayConstant")
def epoch_decay_constant(step: int, *, steps_per_epoch: int, epoch_decay: int, **_: int) -> float:
    """Constant LR, divided by 3 every ``epoch_decay`` epochs."""
    return (1 / 3) ** ((step // max(1, steps_per_epoch)) // epoch_decay)


def lr_factor(name: str, **lengths: int) -> Callable[[int], float]:
    """The factor of schedule ``name`` as a function of the step."""
    return partial(LR_SCHEDULES.get(name), **lengths)


def _scaled(factor: Callable[[int], float], scale: float, step: int) -> float:
    return scale * factor(step)


def group_factors(name: str, param_groups: Sequence[dict[str, Any]], **lengths: int) -> list[Callable[[int], float]]:
    """One factor per parameter group for ``LambdaLR``: the schedule times the group's ``lr_scale``, which timm's
    layer-wise LR decay sets (timm's own schedulers apply it; ``LambdaLR`` needs it in the factor)."""
    factor = lr_factor(name, **lengths)
    return [partial(_scaled, factor, group.get("lr_scale", 1.0)) for group in param_groups]


__all__ = ["LR_SCHEDULES", "group_factors", "lr_factor"]
