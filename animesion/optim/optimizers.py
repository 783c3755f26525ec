"""The optimizer of a run: timm's ``create_optimizer_v2``, by ``opt`` name, with weight decay and layer decay.

timm keeps biases and norm weights (every 1-D parameter) and a model's ``no_weight_decay()`` names out
of the weight decay, and with ``layer_decay`` scales the learning rate of each ViT block or CNN stage by
``layer_decay ** (depth - block)`` through the model's ``group_matcher``. Note the names: timm's ``sgd``
is SGD with Nesterov momentum; ``momentum`` is classical momentum, the original's optimizer.
"""

from __future__ import annotations

from torch import nn
from torch.optim import Optimizer

from ..errors import ConfigError


def optimizer_names() -> list[str]:
    """Every ``opt`` name of timm's optimizer registry (imports timm)."""
    from timm.optim import list_optimizers

    return list_optimizers()


def create_optimizer(model: nn.Module, *, opt: str, lr: float, weight_decay: float, momentum: float,
                     layer_decay: float | None = None) -> Optimizer:
    """timm's optimizer ``opt`` over ``model``'s parameters; a missing optional package is one sentence."""
    from timm.optim import create_optimizer_v2

    try:
        return create_optimizer_v2(model, opt=opt, lr=lr, weight_decay=weight_decay, momentum=momentum,
                                   layer_decay=layer_decay)
    except ImportError as err:  # bitsandbytes, apex, ... optimizers need their package
        raise ConfigError(f"opt='{opt}' needs a package that is not installed ({err}); choose another opt.") from None


__all__ = ["create_optimizer", "optimizer_names"]
