"""Attention rollout (Abnar & Zuidema, 2020): how much each output token draws on each input token."""

from __future__ import annotations

import torch
from torch import Tensor


def attention_rollout(attentions: Tensor) -> Tensor:
    """attentions [L, B, H, T, T] → rollout [B, T, T].

    Per layer: average the heads, add the identity (the residual connection), renormalise the rows;
    then multiply the layers, last on the left: R = Â_L ⋯ Â_2 Â_1.
    """
    mean = attentions.float().mean(dim=2)  # [L, B, T, T]
    eye = torch.eye(mean.shape[-1], dtype=mean.dtype, device=mean.device)
    layers = mean + eye
    layers = layers / layers.sum(dim=-1, keepdim=True)
    joint = layers[0]
    for layer in layers[1:]:
        joint = layer @ joint
    return joint
