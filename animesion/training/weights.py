"""Starting a run from a checkpoint: continue, transfer to other classes, or load parts of a ViT.

``checkpoint_path`` may be one of this workbook's safetensors checkpoints, a plain state dict, or a
checkpoint of the original Animesion code (recognised by its keys and converted). Position embeddings
are resampled when the checkpoint was trained at another ``image_size``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from timm.layers import resample_abs_pos_embed
from torch import Tensor, nn

from ..config.train import TrainConfig
from ..errors import CheckpointError, ConfigError
from ..models.original import convert_original, is_original_state_dict
from ..models.partial import partial_keys
from ..paths import resolve_path
from ..utils.state_dict import read_state_dict

log = logging.getLogger(__name__)


def _some(keys: list[str], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


@dataclass
class LoadReport:
    """What :func:`load_initial_weights` did, weight by weight name.

    ``loaded``: copied from the checkpoint. ``reset``: in both but of other shapes, so they keep their
    fresh initialisation (transfer learning, e.g. the classifier of another class count).
    ``resampled``: position embeddings resampled to this ``image_size``. ``missing``: in the model but
    not the checkpoint. ``unexpected``: in the checkpoint but not the model. ``left_out``: in the
    checkpoint but not part of ``load_partial_mode``.
    """

    path: str
    kind: str
    loaded: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    resampled: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    partial_mode: str | None = None

    def sentences(self) -> list[str]:
        """The report in plain words, one sentence per kind of event."""
        what = f"load_partial_mode='{self.partial_mode}' loaded" if self.partial_mode else "Loaded"
        lines = [f"{what} {len(self.loaded)} weights from {self.kind} '{self.path}'."]
        if self.resampled:
            lines.append(f"Position embeddings were resampled to this image_size: {_some(self.resampled)}.")
        if self.reset:
            lines.append(f"{len(self.reset)} weights have other shapes in the checkpoint and keep their fresh "
                         f"initialisation (transfer learning): {_some(self.reset)}.")
        if self.left_out:
            lines.append(f"{len(self.left_out)} weights of the checkpoint are not part of load_partial_mode "
                         f"and were left out; the model's own weights stay as initialised.")
        if self.missing:
            lines.append(f"{len(self.missing)} weights of the model are not in the checkpoint and keep their "
                         f"initial values: {_some(self.missing)}.")
        if self.unexpected:
            lines.append(f"{len(self.unexpected)} weights in the checkpoint have no place in the model and "
                         f"were ignored: {_some(self.unexpected)}.")
        return lines

    def __str__(self) -> str:
        return " ".join(self.sentences())


def _resample_pos_embed(value: Tensor, target: Tensor) -> Tensor | None:
    """``value`` [1, 1 + n², D] resampled to ``target``'s [1, 1 + m², D] grid, or None if not square grids."""
    old, new = value.shape[1] - 1, target.shape[1] - 1
    old_side, new_side = math.isqrt(old), math.isqrt(new)
    if value.shape[-1] != target.shape[-1] or old_side**2 != old or new_side**2 != new:
        return None
    return resample_abs_pos_embed(value, new_size=[new_side, new_side], old_size=[old_side, old_side],
                                  num_prefix_tokens=1)


def load_initial_weights(model: nn.Module, config: TrainConfig) -> LoadReport:
    """Load ``config.checkpoint_path`` into ``model`` (in place) and log what was loaded in plain words.

    Without ``transfer_learning`` a weight of another shape is an error; with it, such weights (the
    classifier, when the class count changes) keep their fresh initialisation. ``load_partial_mode``
    loads only the named parts of a ViT (patch projection, position embeddings, class token).
    """
    path = resolve_path(config.checkpoint_path)
    state = read_state_dict(path)
    kind, unexpected = "checkpoint", []
    if is_original_state_dict(state):
        converted = convert_original(state)
        state, unexpected, kind = converted.state, converted.skipped, "original Animesion checkpoint"
    own = model.state_dict()
    report = LoadReport(str(path), kind, partial_mode=config.load_partial_mode)

    if config.load_partial_mode:
        if not partial_keys(list(own), config.load_partial_mode):
            raise ConfigError(f"load_partial_mode loads parts of a ViT; model_name='{config.model_name}' has none.")
        keep = set(partial_keys(list(state), config.load_partial_mode))
        if not keep:
            raise CheckpointError(f"'{path}' holds none of the weights of load_partial_mode="
                                  f"'{config.load_partial_mode}'.")
        report.left_out = [k for k in state if k not in keep]
        state, unexpected = {k: v for k, v in state.items() if k in keep}, []

    for key in [k for k in state if k.endswith("pos_embed") and k in own and own[k].shape != state[k].shape]:
        resampled = _resample_pos_embed(state[key], own[key])
        if resampled is not None:
            state[key] = resampled
            report.resampled.append(key)

    mismatched = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if mismatched and not config.transfer_learning:
        k = mismatched[0]
        raise CheckpointError(
            f"checkpoint_path does not fit {config.model_name}: {len(mismatched)} weights have other shapes "
            f"(e.g. {k}: {tuple(state[k].shape)} in the checkpoint, {tuple(own[k].shape)} in the model); "
            "set transfer_learning=True to reset them."
        )
    state = {k: v for k, v in state.items() if k not in mismatched}
    if not any(k in own for k in state):
        raise CheckpointError(f"'{path}' has no weights that fit model_name='{config.model_name}'; "
                              "was it trained with another model_name?")
    result = model.load_state_dict(state, strict=False)
    report.loaded = [k for k in state if k in own]
    report.reset = mismatched
    report.unexpected = unexpected + list(result.unexpected_keys)
    # In partial mode the rest of the model is meant to stay as it is; it is not "missing".
    report.missing = [] if config.load_partial_mode else [k for k in result.missing_keys if k not in mismatched]
    for sentence in report.sentences():
        log.info(sentence)
    return report


__all__ = ["LoadReport", "load_initial_weights"]
