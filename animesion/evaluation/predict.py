"""Running a model over a loader and keeping its top-k predictions (all tensors, no Python loops per sample)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from ..data.tag_tokens import IGNORE
from ..performance import autocast
from ..utils.progress import progress_bar


@dataclass
class Predictions:
    """Per-sample results over a split. N samples, k = top-k.

    labels [N], topk_idx [N, k], topk_prob [N, k], indices [N] (positions in the dataset), loss [N].
    Models with a masked-tag head, on a loader with tags, also give ``token_pred`` [N, T] (the most
    likely token at every tag position) and ``token_loss`` [N] (mean cross-entropy over the sample's
    tag tokens); ``loss`` is then class plus token cross-entropy, as in training.
    """

    labels: torch.Tensor
    topk_idx: torch.Tensor
    topk_prob: torch.Tensor
    indices: torch.Tensor
    loss: torch.Tensor
    token_pred: torch.Tensor | None = None
    token_loss: torch.Tensor | None = None

    @property
    def correct1(self) -> torch.Tensor:
        """[N] bool: top-1 is right."""
        return self.topk_idx[:, 0] == self.labels

    @property
    def correct5(self) -> torch.Tensor:
        """[N] bool: the label is among the top-5 (top-k when k < 5)."""
        return (self.topk_idx[:, :5] == self.labels[:, None]).any(dim=1)


@torch.inference_mode()
def predict(
    model: nn.Module, loader: DataLoader, device: torch.device | str = "cpu", k: int = 5,
    max_batches: int | None = None, desc: str = "evaluating", progress: bool = True,
) -> Predictions:
    """Top-``k`` predictions and per-sample loss of ``model`` on every readable sample of ``loader``.

    The model sees the images only: a vision+tags model reads its fully masked prompt, never the
    sample's tags, which (``"token_labels"`` of the batch) serve as the targets of its tag predictions.
    """
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {}
    total = len(loader) if max_batches is None else min(len(loader), max_batches)
    for step, batch in enumerate(progress_bar(loader, total=total, desc=desc, leave=False, disable=not progress)):
        if max_batches is not None and step >= max_batches:
            break
        if batch is None:
            continue
        labels = batch["label"].to(device)
        with autocast(device):
            output = model(batch["image"].to(device, non_blocking=True))
        logits = output["logits"].float()
        prob, idx = logits.softmax(dim=-1).topk(min(k, logits.shape[-1]), dim=-1)
        values = {"labels": labels, "topk_idx": idx, "topk_prob": prob, "indices": batch["index"],
                  "loss": F.cross_entropy(logits, labels, reduction="none")}
        if output["token_logits"] is not None and "token_labels" in batch:
            values["token_pred"], values["token_loss"] = _token_results(output["token_logits"].float(),
                                                                        batch["token_labels"].to(device))
            values["loss"] = values["loss"] + values["token_loss"]
        for key, value in values.items():
            parts.setdefault(key, []).append(value.cpu())
    if not parts:
        empty = torch.empty(0, dtype=torch.long)
        return Predictions(empty, empty.view(0, k), torch.empty(0, k), empty, torch.empty(0))
    return Predictions(**{key: torch.cat(values) for key, values in parts.items()})


def _token_results(token_logits: torch.Tensor, token_labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Most likely token [B, T] and each sample's mean cross-entropy over its labelled positions [B]."""
    per_token = F.cross_entropy(token_logits.transpose(1, 2), token_labels, reduction="none")  # [B, T]; 0 if ignored
    counts = (token_labels != IGNORE).sum(dim=1).clamp(min=1)
    return token_logits.argmax(dim=-1), per_token.sum(dim=1) / counts

