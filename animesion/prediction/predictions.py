"""The per-sample results of a model over a labelled split: top-k, loss, and optionally embeddings and tags."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch


@dataclass
class Predictions:
    """Per-sample results over a split. N samples, k = top-k.

    labels [N], topk_idx [N, k], topk_prob [N, k], indices [N] (positions in the dataset), loss [N].
    Models with a masked-tag head, on a loader with tags, also give ``token_pred`` [N, T] (the most
    likely token at every tag position) and ``token_loss`` [N] (mean cross-entropy over the sample's
    tag tokens); ``loss`` is then class plus token cross-entropy, as in training. ``embeddings`` [N, D (+ H)]
    (``Predictor.identity``) when asked for. Models with a multi-label tag head give ``tag_scores`` [N, tags] (sigmoid
    probabilities) and, on a loader with tag targets, ``tag_targets`` [N, tags] (multi-hot).
    """

    labels: torch.Tensor
    topk_idx: torch.Tensor
    topk_prob: torch.Tensor
    indices: torch.Tensor
    loss: torch.Tensor
    token_pred: torch.Tensor | None = None
    token_loss: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    tag_scores: torch.Tensor | None = None
    tag_targets: torch.Tensor | None = None

    @classmethod
    def empty(cls, k: int) -> Predictions:
        """No samples (a split whose every image was unreadable)."""
        none = torch.empty(0, dtype=torch.long)
        return cls(none, none.view(0, k), torch.empty(0, k), none, torch.empty(0))

    @classmethod
    def names(cls) -> list[str]:
        """The tensor fields, in order (the optional ones are None when absent)."""
        return [f.name for f in fields(cls)]

    @property
    def correct1(self) -> torch.Tensor:
        """[N] bool: top-1 is right."""
        return self.topk_idx[:, 0] == self.labels

    @property
    def correct5(self) -> torch.Tensor:
        """[N] bool: the label is among the top-5 (top-k when k < 5)."""
        return (self.topk_idx[:, :5] == self.labels[:, None]).any(dim=1)


__all__ = ["Predictions"]
