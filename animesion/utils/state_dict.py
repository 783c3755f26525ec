"""Reading weight files without unpickling untrusted data."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from ..errors import CheckpointError


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict from ``.safetensors``, or from a torch file with ``weights_only=True``.

    A torch file that holds a dict with a ``state_dict`` or ``model`` entry is unwrapped.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"Weights file '{path}' does not exist.")
    try:
        if path.suffix == ".safetensors":
            return load_file(path)
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # any failure is a bad file for the user
        raise CheckpointError(f"Could not read weights from '{path}': {err}") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise CheckpointError(f"'{path}' does not hold a state dict.")
    return state
