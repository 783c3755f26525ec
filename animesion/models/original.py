"""Checkpoints of the original Animesion code, converted to this package's ViT keys.

The original ViTs (a fork of PyTorch-Pretrained-ViT) name their weights ``model.patch_embedding``,
``model.class_token``, ``model.positional_embedding.pos_embedding``,
``model.transformer.blocks.N.{attn.proj_q,attn.proj_k,attn.proj_v,proj,norm1,pwff.fc1,pwff.fc2,norm2}``,
``model.norm`` and ``model.fc`` (plain head) or ``inter_class_head.{0,3,4}`` (IFA head). Their maths is
the timm block's: q/k/v heads are split from the last dimension and scaled by 1/sqrt(head_dim), so the
three projections concatenate into timm's fused ``qkv`` and every other weight is a rename.
The same layout without the ``model.`` prefix is the original pretrained ``B_16.pth`` style file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
from torch import Tensor

# original key (after the ``model.`` prefix is removed) → key of ViTClassifier; applied in order.
RENAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), target)
    for pattern, target in (
        (r"^patch_embedding\.(weight|bias)$", r"vit.patch_embed.proj.\1"),
        (r"^class_token$", "vit.cls_token"),
        (r"^positional_embedding\.pos_embedding$", "vit.pos_embed"),
        (r"^transformer\.blocks\.(\d+)\.proj\.(weight|bias)$", r"vit.blocks.\1.attn.proj.\2"),
        (r"^transformer\.blocks\.(\d+)\.(norm1|norm2)\.(weight|bias)$", r"vit.blocks.\1.\2.\3"),
        (r"^transformer\.blocks\.(\d+)\.pwff\.(fc1|fc2)\.(weight|bias)$", r"vit.blocks.\1.mlp.\2.\3"),
        (r"^norm\.(weight|bias)$", r"vit.norm.\1"),
        (r"^fc\.(weight|bias)$", r"head.\1"),
        (r"^inter_class_head\.([034])\.(weight|bias)$", r"head.\1.\2"),
    )
)
# q, k and v projections of one block; they are fused into ``vit.blocks.N.attn.qkv``.
QKV = re.compile(r"^transformer\.blocks\.(\d+)\.attn\.proj_([qkv])\.(weight|bias)$")


@dataclass
class OriginalConversion:
    """``state``: the weights under this package's names. ``skipped``: original keys with no counterpart
    here (e.g. the multimodal text embeddings or a representation layer)."""

    state: dict[str, Tensor]
    skipped: list[str] = field(default_factory=list)


def _strip(key: str) -> str:
    return key.removeprefix("model.")


def is_original_state_dict(state: dict[str, Tensor]) -> bool:
    """True when ``state`` has the original code's separate q/k/v projections (with or without ``model.``)."""
    return any(QKV.match(_strip(key)) for key in state)


def convert_original(state: dict[str, Tensor]) -> OriginalConversion:
    """Rename an original Animesion ViT state dict to :class:`ViTClassifier` keys, fusing q/k/v.

    Within a block, timm's ``qkv`` Linear computes [q | k | v] along its output, so its weight
    [3D, D] is the row-wise concatenation of proj_q, proj_k and proj_v.
    """
    out: dict[str, Tensor] = {}
    qkv: dict[tuple[str, str], dict[str, Tensor]] = {}
    skipped = []
    for key, value in state.items():
        name = _strip(key)
        match = QKV.match(name)
        if match:
            block, which, kind = match.groups()
            qkv.setdefault((block, kind), {})[which] = value
            continue
        for pattern, target in RENAMES:
            if pattern.match(name):
                out[pattern.sub(target, name)] = value
                break
        else:
            skipped.append(key)
    for (block, kind), parts in qkv.items():
        if len(parts) == 3:
            out[f"vit.blocks.{block}.attn.qkv.{kind}"] = torch.cat([parts["q"], parts["k"], parts["v"]], dim=0)
        else:  # a block without all three projections cannot be fused
            skipped += [f"transformer.blocks.{block}.attn.proj_{which}.{kind}" for which in parts]
    return OriginalConversion(out, skipped)


__all__ = ["OriginalConversion", "convert_original", "is_original_state_dict"]
