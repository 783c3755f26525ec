"""Optional experiment tracking through Accelerate's trackers: TensorBoard or Weights & Biases.

``history.csv`` and ``metrics.json`` are always written; a tracker is an extra view on the same numbers.
Both work offline and never need an account: TensorBoard writes local event files and W&B runs in
offline mode (``wandb sync`` can upload the run later). Nothing here imports either package: Accelerate
imports the chosen one when the run starts, so a run without a tracker loads neither.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from .config.train import TrainConfig
from .errors import ConfigError

PROJECT = "animesion"  # the W&B project; the TensorBoard folder under <run>/tracking/


def trackers_for(config: TrainConfig) -> list[str] | None:
    """The ``log_with`` list for Accelerate; a missing package is one sentence, not a silent no-op."""
    if config.tracker is None:
        return None
    if importlib.util.find_spec(config.tracker) is None:
        raise ConfigError(
            f"tracker='{config.tracker}' needs the {config.tracker} package, which is not installed; "
            "install it with pip install 'animesion-workbook[tracking]' or set tracker=None."
        )
    return [config.tracker]


def init_kwargs(run_name: str, tracking_dir: str) -> dict[str, dict[str, Any]]:
    """Per-tracker start options: W&B offline, in the run folder, resuming the same run id."""
    return {"wandb": {"mode": "offline", "dir": tracking_dir, "name": run_name, "id": run_name, "resume": "allow"}}


def hparams(config: TrainConfig) -> dict[str, bool | int | float | str]:
    """The parameters as tracker hyper-parameters: TensorBoard takes only numbers, strings and booleans, so
    None becomes 'None' and a list (``scale``) its text, '[0.35, 1.0]'."""
    return {k: "None" if v is None else str(v) if isinstance(v, (list, tuple)) else v
            for k, v in config.to_dict().items()}
