"""Resumable training states: everything needed to continue a run exactly where a checkpoint left it.

A state is one torch file per checkpointed epoch, ``checkpoints/epochNNNN.pt`` in the run folder,
written atomically. It holds the model, optimizer, LR scheduler and any other stateful scheduler
(everything in the ``stateful`` mapping), the epoch and optimizer step, the best metrics, the history
rows so far and the RNG states of every process. It contains only tensors and plain containers, so
it loads with ``torch.load(weights_only=True)``, never unpickling code.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from ..atomic import atomic_write
from ..config.train import TrainConfig
from ..errors import CheckpointError
from ..models.checkpoint import current_weight_names
from .run_dir import NOT_IN_RUN_NAME, RunDir

log = logging.getLogger(__name__)
FORMAT = "animesion-state-2"
FORMAT_1 = "animesion-state-1"  # weights named as checkpoint format 2 (converted when read)
WEIGHTS = {"model": "", "model_ema": "module."}  # objects that are the network's weights → their names' prefix


class Stateful(Protocol):
    """Model, optimizer, scheduler, or anything else whose state a resumed run needs back."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> Any: ...


@dataclass
class Progress:
    """Where a run stands: epochs done, optimizer steps, best metrics, history rows and training time."""

    epoch: int = 0
    step: int = 0
    best_top1: float = -1.0
    best_top1_epoch: int = 0
    best_loss: float = math.inf
    best_loss_epoch: int = 0
    train_time_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)


def save_state(path: Path, config: TrainConfig, progress: Progress, objects: Mapping[str, dict[str, Any]],
               rng: list[dict[str, Any]]) -> Path:
    """Atomically write a resumable state: ``objects`` are the state dicts of the stateful objects by name
    (copies, when training goes on meanwhile), ``rng`` one :func:`capture_rng` state per process."""
    state = {"format": FORMAT, "config": config.to_dict(), "progress": asdict(progress), "rng": rng,
             "objects": dict(objects)}
    return atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_state(path: Path) -> dict[str, Any]:
    """Read a state written by :func:`save_state` (tensors on the CPU), without unpickling."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # whatever the cause, the file cannot be resumed from
        raise CheckpointError(f"'{path}' is not a readable training state ({err}).") from None
    if not isinstance(state, dict) or state.get("format") not in (FORMAT, FORMAT_1):
        raise CheckpointError(f"'{path}' is not an Animesion training state.")
    if state["format"] == FORMAT_1:
        state["objects"] = {name: current_weight_names(obj, WEIGHTS[name]) if name in WEIGHTS else obj
                            for name, obj in state["objects"].items()}
    return state


def _training_params(values: Mapping[str, Any]) -> dict[str, Any]:
    normalised = TrainConfig.from_saved(values).to_dict()  # keys newer than the state: what it trained with
    return {k: v for k, v in normalised.items() if k not in NOT_IN_RUN_NAME}


def check_same_run(saved: Mapping[str, Any], config: TrainConfig, path: Path) -> None:
    """Refuse to continue ``path`` (a state or finished run saved with the parameters ``saved``) with other
    parameters, which an explicit ``run_name`` makes possible."""
    before, now = _training_params(saved), _training_params(config.to_dict())
    changed = [k for k in now if before.get(k) != now[k]]
    if changed:
        key = changed[0]
        raise CheckpointError(f"Cannot resume from '{path}': it was trained with {key}={before.get(key)!r}, not "
                              f"{now[key]!r}; use the same parameters or another run_name.")


def newest_state(run: RunDir, config: TrainConfig) -> tuple[Path, dict[str, Any]] | None:
    """The newest readable state of ``run`` (older ones are tried when the newest is damaged), or None.

    A state trained with other parameters (possible with an explicit ``run_name``) is refused.
    """
    for path in reversed(run.states()):
        try:
            state = load_state(path)
        except CheckpointError as err:
            log.warning("%s Trying an older checkpoint.", err)
            continue
        check_same_run(state["config"], config, path)
        return path, state
    return None


def restore_state(state: dict[str, Any], stateful: Mapping[str, Stateful]) -> Progress:
    """Load every object of ``stateful`` from ``state`` and return the run's progress."""
    missing = [name for name in stateful if name not in state["objects"]]
    if missing:
        raise CheckpointError(f"The training state has no '{missing[0]}' to resume from; start a new run.")
    for name, obj in stateful.items():
        obj.load_state_dict(state["objects"][name])
    return Progress(**state["progress"])


def prune_states(run: RunDir, keep_last: int) -> None:
    """Delete all but the newest ``keep_last`` states."""
    for path in run.states()[:-keep_last]:
        path.unlink(missing_ok=True)


def clear_states(run: RunDir) -> None:
    """Delete the states of an earlier run in this folder, so a fresh run never resumes from them."""
    for path in run.states():
        path.unlink(missing_ok=True)
