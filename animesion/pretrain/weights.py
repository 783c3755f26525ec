"""A pretrained backbone as a file: safetensors in fp16, with its recipe in the file's metadata."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..atomic import atomic_write
from ..config.pretrain import PretrainConfig
from ..models.backbones import backbone_file


def save_backbone(path: Path, state: dict[str, torch.Tensor], config: PretrainConfig, images: int,
                  losses: list[float], seconds: float, start: dict[str, str] | None = None) -> Path:
    """Write the backbone's weights (floating ones in fp16: half the size, and 03 reads them into fp32) with
    how they were made, atomically; a backbone continued from another carries that one's header, ``start``."""
    tensors = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    recipe = {k: v for k, v in asdict(config).items() if k not in ("images_path", "output_path", "num_workers")}
    meta = {"format": "animesion-backbone", "method": config.method, "recipe": json.dumps(recipe),
            "images": str(images), "losses": json.dumps([round(x, 4) for x in losses]), "seconds": f"{seconds:.0f}"}
    if start is not None:
        meta["start"] = json.dumps(start)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def backbone_header(backbone: str) -> dict[str, str]:
    """How the backbone ``backbone`` names was made: its file's header (``save_backbone``'s metadata)."""
    with safe_open(str(backbone_file(backbone)), "pt") as file:
        return dict(file.metadata() or {})


__all__ = ["backbone_header", "save_backbone"]
