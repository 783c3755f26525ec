"""Checkpoints as safetensors files that carry their model spec, class names, vocabulary and run parameters.

Loading never unpickles: weights are safetensors, the rest is JSON in the safetensors header. The model
is rebuilt from the stored :class:`ModelSpec` alone; the training parameters ride along as a plain
record, never re-validated, so a checkpoint keeps loading when a training option is renamed or gets a
stricter rule. Checkpoints of earlier formats are converted when read: the first (before the spec existed)
and the second (whose ``tag_head`` was the vision+tags model's masked-tag head, now ``masked_tag_head``,
since ``tag_head`` is the multi-label tag head of every family).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from ..atomic import atomic_write
from ..data.tokenization import restore_tokenizer
from ..data.tokenization.base import TagTokenizer
from ..data.vocab import Vocabulary
from ..errors import CheckpointError
from ..paths import resolve_path
from .factory import create_model
from .spec import ModelSpec
from .timm_form import timm_form

FORMAT = "animesion-checkpoint-3"
FORMAT_2 = "animesion-checkpoint-2"  # the masked-tag head was called ``tag_head`` (written until 2026-12-06)
FORMAT_1 = "animesion-checkpoint-1"  # the whole training config, no model spec (written until 2026-12)
RENAMED_WEIGHTS = (("tag_head.", "masked_tag_head."),)  # formats 1–2 → 3: the masked-tag head's weights
CALIBRATION = "calibration."  # prefix of the calibration's tensors (not weights: kept out of the model)
# A shared folder (animesion.share): timm's files plus the workbook's side files
SHARED_META = "animesion.json"  # the checkpoint's header, as JSON strings
SHARED_WEIGHTS = "model.safetensors"  # the weights, in timm's names when timm can rebuild the model
SHARED_CALIBRATION = "animesion_calibration.safetensors"  # the calibration's tensors
WEIGHTS_FORM = "weights_form"  # in SHARED_META: "timm" or "workbook" (the weights' names)
HF_HUB = "hf-hub:"  # checkpoint_path prefix of a model on the Hugging Face Hub


@dataclass
class Checkpoint:
    """A loaded checkpoint: the model (eval mode) and everything needed to use it.

    ``training``: the parameters of the run that wrote it, as saved (a plain dict; see ``dataset_name`` and
    the other properties for the ones evaluation and inference read). ``calibration``: what training
    measured to recognise unseen characters (``{"tensors": …, "meta": …}``, see
    :mod:`animesion.prediction.open_set`), None for checkpoints written without it.
    """

    model: nn.Module
    spec: ModelSpec
    class_names: list[str]
    training: dict[str, Any] = field(default_factory=dict)
    vocab: Vocabulary | None = None
    tokenizer: TagTokenizer | None = None  # vision+tags models: the tag tokenizer they were trained with
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    calibration: dict[str, Any] | None = None
    tag_head: dict[str, Any] | None = None  # the tag head's tags and thresholds (``{"tags": …, "thresholds": …}``)

    @property
    def dataset_name(self) -> str:
        return self.training.get("dataset_name", "synthetic")

    @property
    def dataset_path(self) -> str:
        return self.training.get("dataset_path", "data/synthetic")

    @property
    def seed(self) -> int:
        """The run's seed, which also chose the held-out val split of layouts without one."""
        return int(self.training.get("seed", 0))

    @property
    def mixed_precision(self) -> str:
        """How the run computed (``no``, ``bf16``, ``fp16``): predictions autocast the same way."""
        return self.training.get("mixed_precision", "no")


def unwrap(model: nn.Module) -> nn.Module:
    """The plain module inside torch.compile and DDP wrappers."""
    return getattr(model, "_orig_mod", getattr(model, "module", model))


def weights_of(model: nn.Module) -> dict[str, Tensor]:
    """A copy of ``model``'s state dict on the CPU that training can go on changing under (for a later write)."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in unwrap(model).state_dict().items()}


def save_checkpoint(
    path: str | Path, model: nn.Module | dict[str, Tensor], spec: ModelSpec, class_names: list[str],
    training: dict[str, Any], vocab: Vocabulary | None = None, info: dict[str, Any] | None = None,
    tokenizer: TagTokenizer | None = None, calibration: dict[str, Any] | None = None,
    tag_head: dict[str, Any] | None = None,
) -> Path:
    """Atomically write the weights of ``model`` (or a :func:`weights_of` copy) with its spec, class names,
    run parameters, vocabulary, tag tokenizer, ``info`` (epoch, val metrics, …), ``calibration`` and the tag
    head's tags and thresholds (``tag_head``, JSON)."""
    state = weights_of(model) if isinstance(model, nn.Module) else model
    if calibration is not None:
        state = {**state, **{CALIBRATION + k: v.detach().cpu().contiguous() for k, v in calibration["tensors"].items()}}
    meta = {
        "format": FORMAT,
        "model_spec": json.dumps(spec.to_dict()),
        "training": json.dumps(training),
        "class_names": json.dumps(class_names),
        "vocab": json.dumps(vocab.idx2word if vocab else None),
        "info": json.dumps(info or {}),
        "tokenizer": json.dumps(tokenizer.state() if tokenizer else None),
        "calibration": json.dumps(calibration["meta"] if calibration is not None else None),
        "tag_head": json.dumps(tag_head),
    }
    return atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=meta))


def _legacy_spec(config: dict[str, Any], num_classes: int, vocab_size: int | None) -> dict[str, Any]:
    """The model spec of a first-format checkpoint, read from its training config (same parameter names)."""
    multimodal = bool(config.get("multimodal", False))
    return {"model_name": config["model_name"], "num_classes": num_classes, "image_size": config["image_size"],
            "interm_features_fc": config.get("interm_features_fc", False), "multimodal": multimodal,
            "vocab_size": vocab_size if multimodal else None, "max_text_seq_len": config.get("max_text_seq_len", 16),
            "masked_tag_head": multimodal and config.get("mask_schedule") is not None,
            "pretrained": config.get("pretrained", False), "pretrained_path": config.get("pretrained_path", "")}


def checkpoint_location(text: str | Path) -> Path:
    """Where a ``checkpoint_path`` points: a checkpoint file, a shared folder (:data:`SHARED_META` inside), or
    ``hf-hub:user/name``, looked up in the local Hugging Face cache first and downloaded only when the Hub
    answers (never under ``HF_HUB_OFFLINE``)."""
    if not str(text).startswith(HF_HUB):
        return resolve_path(text)
    from huggingface_hub import snapshot_download

    repo = str(text)[len(HF_HUB):]
    try:
        return Path(snapshot_download(repo, local_files_only=True))
    except Exception:  # not in the cache: try the Hub, unless told to stay offline
        pass
    if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("ANIMESION_OFFLINE"):
        raise CheckpointError(f"'{repo}' is not in the local Hugging Face cache and the Hub is off (HF_HUB_OFFLINE); "
                              "download it once with network, or give checkpoint_path a shared folder.")
    try:
        return Path(snapshot_download(repo, etag_timeout=10))
    except Exception as err:
        raise CheckpointError(f"Could not fetch '{repo}' from the Hugging Face Hub ({type(err).__name__}); give "
                              "checkpoint_path a checkpoint file or a shared folder instead.") from None


def _raw_header(path: Path) -> dict[str, str]:
    """The header strings of a checkpoint file, or of a shared folder's :data:`SHARED_META`."""
    if path.is_dir():
        try:
            return json.loads((path / SHARED_META).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CheckpointError(f"'{path}' is a folder without a readable {SHARED_META}, so it is not a model "
                                  f"shared by the workbook ({type(err).__name__}).") from None
    try:
        with safe_open(str(path), framework="pt") as f:
            return f.metadata() or {}
    except Exception as err:  # any failure means the file is not one of ours
        raise CheckpointError(f"'{path}' is not a readable safetensors checkpoint ({err}).") from None


def read_checkpoint_meta(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a checkpoint (a file or a shared folder), without loading its weights, in the
    current format's keys (``model_spec``, ``training``, ``class_names``, ``vocab``, ``tokenizer``, ``info``)."""
    path = checkpoint_location(path)
    if not path.exists():
        raise CheckpointError(f"Checkpoint '{path}' does not exist; train one with 03_train or set checkpoint_path.")
    raw = _raw_header(path)
    if raw.get("format") not in (FORMAT, FORMAT_2, FORMAT_1):
        raise CheckpointError(f"'{path}' is a safetensors file but not an Animesion checkpoint.")
    meta = {k: json.loads(v) for k, v in raw.items() if k not in ("format", WEIGHTS_FORM)}
    meta[WEIGHTS_FORM] = raw.get(WEIGHTS_FORM, "workbook")
    if raw["format"] == FORMAT_1:
        training = meta.pop("config")
        vocab_size = _vocab_size(meta)
        meta |= {"training": training, "model_spec": _legacy_spec(training, len(meta["class_names"]), vocab_size)}
    elif raw["format"] == FORMAT_2:
        meta["model_spec"]["masked_tag_head"] = meta["model_spec"].pop("tag_head", False)
    meta["converted"] = raw["format"] != FORMAT
    return meta


def _vocab_size(meta: dict[str, Any]) -> int | None:
    """The number of tag token ids of a checkpoint's tokenizer (or vocabulary), None without tags."""
    if not meta.get("vocab"):
        return None
    if meta.get("tokenizer") and meta["tokenizer"].get("pieces"):
        return len(meta["tokenizer"]["pieces"])
    return len(meta["vocab"])


def current_weight_names(state: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A state dict written before format 3 under today's weight names (:data:`RENAMED_WEIGHTS`); ``prefix``:
    what comes before the network's own names (a weight average's ``module.``)."""
    def renamed(key: str) -> str:
        for old, new in RENAMED_WEIGHTS:
            if key.startswith(prefix + old):
                return prefix + new + key.removeprefix(prefix + old)
        return key

    return {renamed(k): v for k, v in state.items()}


def read_spec(path: str | Path) -> ModelSpec:
    """The :class:`ModelSpec` of a checkpoint, from its header alone."""
    return ModelSpec.from_dict(read_checkpoint_meta(path)["model_spec"])


def _tensors(path: Path, meta: dict[str, Any], spec: ModelSpec) -> dict[str, Tensor]:
    """The weights (and calibration tensors) of a checkpoint file, or of a shared folder in the workbook's names."""
    if not path.is_dir():
        return load_file(str(path))
    tensors = load_file(str(path / SHARED_WEIGHTS))
    if meta[WEIGHTS_FORM] == "timm":
        tensors = timm_form(spec).from_timm(tensors)
    calibration = path / SHARED_CALIBRATION
    return {**tensors, **(load_file(str(calibration)) if calibration.is_file() else {})}


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Rebuild the model of a checkpoint (a file, a shared folder or ``hf-hub:user/name``) from its spec and load
    its weights; the model is returned in eval mode."""
    path = checkpoint_location(path)
    meta = read_checkpoint_meta(path)
    spec = ModelSpec.from_dict(meta["model_spec"])
    vocab = Vocabulary(meta["vocab"]) if meta.get("vocab") else None
    tokenizer = restore_tokenizer(meta["tokenizer"], vocab) if meta.get("tokenizer") and vocab else None
    model = create_model(spec.without_start())  # the weights come from the file
    tensors = _tensors(path, meta, spec)
    extra = {k.removeprefix(CALIBRATION): tensors.pop(k) for k in list(tensors) if k.startswith(CALIBRATION)}
    if meta["converted"]:
        tensors = current_weight_names(tensors)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as err:
        raise CheckpointError(f"'{path}' does not fit its own model spec: {str(err).splitlines()[0]}") from None
    calibration = {"tensors": extra, "meta": meta["calibration"]} if meta.get("calibration") else None
    return Checkpoint(model.to(device).eval(), spec, meta["class_names"], meta.get("training", {}), vocab,
                      tokenizer, meta.get("info", {}), path, calibration, meta.get("tag_head"))


__all__ = ["HF_HUB", "SHARED_CALIBRATION", "SHARED_META", "SHARED_WEIGHTS", "WEIGHTS_FORM", "Checkpoint",
           "checkpoint_location", "current_weight_names", "load_checkpoint", "read_checkpoint_meta", "read_spec",
           "save_checkpoint", "unwrap", "weights_of"]
