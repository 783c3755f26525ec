"""Learning-rate schedules of the original, registered by ``lr_scheduler``; both step every batch."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from ..registry import Registry

LR_SCHEDULES: Registry = Registry("lr_scheduler")


@LR_SCHEDULES.register("warmupCosine")
def warmup_cosine(optimizer: Optimizer, *, total_steps: int, warmup_steps: int, **_: int) -> LambdaLR:
    """Linear warm-up from 0 over ``warmup_steps``, then half a cosine down to 0 at ``total_steps``."""
    warmup = min(warmup_steps, max(total_steps - 1, 0))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return LambdaLR(optimizer, factor)


@LR_SCHEDULES.register("epochDecayConstant")
def epoch_decay_constant(optimizer: Optimizer, *, steps_per_epoch: int, epoch_decay: int, **_: int) -> LambdaLR:
    """Constant LR, divided by 3 every ``epoch_decay`` epochs."""
    return LambdaLR(optimizer, lambda step: (1 / 3) ** ((step // max(1, steps_per_epoch)) // epoch_decay))
