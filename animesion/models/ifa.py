"""Intermediate-features aggregation (IFA) head and the layer-wise exclusion loss."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


class IFAHead(nn.Sequential):
    """Classify from every block's class token.

    Input [B, L, D] (one class token per block) is transposed to [B, D, L], then
    Linear(L→1) → [B, D], ReLU, LayerNorm(D), Linear(D→classes). The module indices (0, 3, 4 hold
    weights) match ``inter_class_head`` of the original code, so its checkpoints map one to one.
    """

    def __init__(self, *, num_layers: int, dim: int, num_classes: int) -> None:
        super().__init__(
            nn.Linear(num_layers, 1), nn.Flatten(), nn.ReLU(), nn.LayerNorm(dim, eps=1e-12), nn.Linear(dim, num_classes)
        )

    def features(self, layer_cls: Tensor) -> Tensor:
        """layer_cls: [B, L, D] → the aggregate [B, D] that the last Linear classifies (the embedding)."""
        x = layer_cls.transpose(1, 2)  # [B, D, L]
        for layer in list(self)[:-1]:  # Linear(L→1), Flatten, ReLU, LayerNorm
            x = layer(x)
        return x

    def forward(self, layer_cls: Tensor) -> Tensor:
        """layer_cls: [B, L, D] → logits [B, num_classes]."""
        return self[-1](self.features(layer_cls))


def exclusion_loss(layer_cls: Tensor, temperature: float = 1.0, layers_dist: int = 2) -> Tensor:
    """T² × the sum over layers i of KL(p_{i+d} ‖ p_i), where p_i = softmax(cls_i / T) and d = ``layers_dist``.

    layer_cls: [B, L, D]. The KL is averaged over the batch and its direction is the original's
    ``KLDivLoss(log_softmax(cls_i / T), softmax(cls_{i+d} / T))``. The training loss *subtracts*
    ``exclusion_weight ×`` this value, pushing the layers' class tokens apart so that each carries
    different information.
    """
    num_layers = layer_cls.shape[1]
    log_p = F.log_softmax(layer_cls / temperature, dim=-1)  # [B, L, D]
    total = layer_cls.new_zeros(())
    for i in range(num_layers - layers_dist):
        total = total + F.kl_div(log_p[:, i], log_p[:, i + layers_dist], reduction="batchmean", log_target=True)
    return total * temperature**2


__all__ = ["IFAHead", "exclusion_loss"]
