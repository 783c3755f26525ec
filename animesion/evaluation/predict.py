"""Running a model over a loader and keeping its top-k predictions (all tensors, no Python loops per sample)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from ..performance import autocast
from ..utils.progress import progress_bar


@dataclass
class Predictions:
    """Per-sample results over a split. N samples, k = top-k.

    labels [N], topk_idx [N, k], topk_prob [N, k], indices [N] (positions in the dataset), loss [N].
    """

    labels: torch.Tensor
    topk_idx: torch.Tensor
    topk_prob: torch.Tensor
    indices: torch.Tensor
    loss: torch.Tensor

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
    """Top-``k`` predictions and per-sample loss of ``model`` on every readable sample of ``loader``."""
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {key: [] for key in ("labels", "topk_idx", "topk_prob", "indices", "loss")}
    total = len(loader) if max_batches is None else min(len(loader), max_batches)
    for step, batch in enumerate(progress_bar(loader, total=total, desc=desc, leave=False, disable=not progress)):
        if max_batches is not None and step >= max_batches:
            break
        if batch is None:
            continue
        labels = batch["label"].to(device)
        with autocast(device):
            logits = model(batch["image"].to(device, non_blocking=True))["logits"].float()
        prob, idx = logits.softmax(dim=-1).topk(min(k, logits.shape[-1]), dim=-1)
        for key, value in (("labels", labels), ("topk_idx", idx), ("topk_prob", prob), ("indices", batch["index"]),
                           ("loss", F.cross_entropy(logits, labels, reduction="none"))):
            parts[key].append(value.cpu())
    if not parts["labels"]:
        empty = torch.empty(0, dtype=torch.long)
        return Predictions(empty, empty.view(0, k), torch.empty(0, k), empty, torch.empty(0))
    return Predictions(**{key: torch.cat(values) for key, values in parts.items()})
