"""The naive reference pipeline, done the original way, for side-by-side measurements.

- Data: every sample decodes the full-size file with PIL and resizes it (no reduced-size decode,
  no pre-resized cache, no worker processes).
- ViT attention: separate q, k and v Linear layers and an explicit softmax(q kᵀ / √d) v, in fp32.
- CNNs: the default NCHW memory layout, in fp32.
- Inference: one image at a time.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from animesion.data.augment import train_transform
from animesion.data.transforms import eval_transform


class ReferenceAttention(nn.Module):
    """Multi-head self-attention computed explicitly, as the original ViT code did.

    Same sizes as timm's ``Attention`` (whose weights it can copy), but three separate projections and
    the [B, heads, T, T] attention matrix materialised in fp32.
    """

    def __init__(self, *, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    @classmethod
    def from_timm(cls, attn: nn.Module) -> ReferenceAttention:
        """A reference layer with the weights of a timm ``Attention`` (its fused qkv split in three)."""
        dim = attn.qkv.in_features
        ref = cls(dim=dim, num_heads=attn.num_heads)
        with torch.no_grad():
            for i, proj in enumerate((ref.q, ref.k, ref.v)):
                proj.weight.copy_(attn.qkv.weight[i * dim : (i + 1) * dim])
                proj.bias.copy_(attn.qkv.bias[i * dim : (i + 1) * dim])
            ref.proj.load_state_dict(attn.proj.state_dict())
        return ref.to(attn.qkv.weight.device)

    def _heads(self, y: Tensor) -> Tensor:
        """[B, T, D] → [B, H, T, D / H]."""
        b, t, d = y.shape
        return y.view(b, t, self.num_heads, d // self.num_heads).transpose(1, 2)

    def forward(self, x: Tensor, attn_mask: Tensor | None = None, **_: Any) -> Tensor:
        """x [B, T, D] → [B, T, D]."""
        b, t, d = x.shape
        q, k, v = (self._heads(proj(x)) for proj in (self.q, self.k, self.v))  # each [B, H, T, d]
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.num_heads)  # [B, H, T, T]
        if attn_mask is not None:
            scores = scores + attn_mask
        out = scores.softmax(dim=-1) @ v  # [B, H, T, d]
        return self.proj(out.transpose(1, 2).reshape(b, t, d))


def to_reference(model: nn.Module) -> nn.Module:
    """A copy of ``model`` the original way: explicit attention in every ViT block, NCHW layout, fp32.

    The copy computes the same function as ``model`` (same weights), so only the speed differs.
    """
    ref = copy.deepcopy(model).float().to(memory_format=torch.contiguous_format)
    for block in [m for m in ref.modules() if hasattr(m, "attn") and hasattr(m.attn, "qkv")]:
        block.attn = ReferenceAttention.from_timm(block.attn)
    return ref


class NaiveImageDataset(Dataset):
    """(image, label) pairs that decode each full-size file with PIL, as the original loaders did."""

    def __init__(self, files: Sequence[Path], labels: Sequence[int], transform: Callable) -> None:
        self.files, self.labels, self.transform = list(files), list(labels), transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image = Image.open(self.files[index]).convert("RGB")
        return {"image": self.transform(image), "label": self.labels[index], "index": index}


def naive_loader(files: Sequence[Path], labels: Sequence[int], image_size: int, batch_size: int) -> DataLoader:
    """The original training loader: full decode, augmentation, in the main process."""
    dataset = NaiveImageDataset(files, labels, train_transform(image_size, aa="jitter", scale=None))
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0)


@torch.inference_mode()
def classify_one_at_a_time(model: nn.Module, files: Sequence[Path], image_size: int, top_k: int = 5) -> Tensor:
    """The original inference loop: open, transform and classify each file on its own; top-k ids [N, k]."""
    model.eval()
    transform = eval_transform(image_size)
    device = next(model.parameters()).device
    ids = []
    for path in files:
        image = transform(Image.open(path).convert("RGB")).unsqueeze(0).to(device)  # [1, 3, S, S]
        probs = model(image)["logits"].float().softmax(dim=-1)
        ids.append(probs.topk(min(top_k, probs.shape[-1]), dim=-1).indices.cpu())
    return torch.cat(ids)
