"""Checkpoints as safetensors files that carry their config, class names and vocabulary.

Loading never unpickles: weights are safetensors, the rest is JSON in the safetensors header. So
evaluation and inference need nothing but the checkpoint file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from ..config.train import TrainConfig
from ..data.tokenization import TagTokenizer, restore_tokenizer
from ..data.vocab import Vocabulary
from ..errors import CheckpointError
from ..paths import resolve_path
from .atomic import atomic_write

FORMAT = "animesion-checkpoint-1"


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode) and everything needed to use it."""

    model: nn.Module
    config: TrainConfig
    class_names: list[str]
    vocab: Vocabulary | None = None
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    tokenizer: TagTokenizer | None = None  # vision+tags models: the tag tokenizer they were trained with


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, "_orig_mod", getattr(model, "module", model))  # torch.compile / DDP wrappers


def save_checkpoint(
    path: str | Path, model: nn.Module, config: TrainConfig, class_names: list[str],
    vocab: Vocabulary | None = None, info: dict[str, Any] | None = None, tokenizer: TagTokenizer | None = None,
) -> Path:
    """Atomically write the weights of ``model`` with its config, class names, vocabulary, tag tokenizer and
    ``info``."""
    state = {k: v.detach().cpu().contiguous() for k, v in _unwrap(model).state_dict().items()}
    meta = {
        "format": FORMAT,
        "config": json.dumps(config.to_dict()),
        "class_names": json.dumps(class_names),
        "vocab": json.dumps(vocab.idx2word if vocab else None),
        "info": json.dumps(info or {}),
        "tokenizer": json.dumps(tokenizer.state() if tokenizer else None),
    }
    return atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=meta))


def read_checkpoint_meta(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint, without loading its weights."""
    path = resolve_path(path)
    if not path.is_file():
        raise CheckpointError(f"Checkpoint '{path}' does not exist; train one with 03_train or set checkpoint_path.")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as err:  # noqa: BLE001 - any failure means the file is not one of ours
        raise CheckpointError(f"'{path}' is not a readable safetensors checkpoint ({err}).") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"'{path}' is a safetensors file but not an Animesion checkpoint.")
    return {k: json.loads(v) for k, v in meta.items() if k != "format"}


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model of a checkpoint and load its weights; the model is returned in eval mode."""
    from safetensors.torch import load_file

    from ..models import create_model

    path = resolve_path(path)
    meta = read_checkpoint_meta(path)
    config = TrainConfig.from_dict({**meta["config"], "pretrained": False})
    vocab = Vocabulary(meta["vocab"]) if meta.get("vocab") else None
    tokenizer = restore_tokenizer(meta["tokenizer"], vocab) if meta.get("tokenizer") and vocab else None
    vocab_size = tokenizer.vocab_size if tokenizer else len(vocab) if vocab else None
    model = create_model(config, len(meta["class_names"]), vocab_size)
    model.load_state_dict(load_file(str(path)))
    return Checkpoint(model.to(device).eval(), config, meta["class_names"], vocab, meta.get("info", {}), path,
                      tokenizer)
