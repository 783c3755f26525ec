"""The notebooks as a whole: which config each one takes, and running them headless with papermill."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .config.base import ConfigBase, load_yaml
from .errors import AnimesionError
from .paths import project_root, resolve_path

# notebook name → "module:Class" of its config (imported lazily so this table stays cheap)
NOTEBOOK_CONFIGS: dict[str, str] = {
    "03_train": "animesion.config.train:TrainConfig",
    "04_evaluate": "animesion.config.evaluate:EvaluateConfig",
    "05_inference": "animesion.config.inference:InferenceConfig",
    "06_attention_viz": "animesion.config.attention:AttentionConfig",
}


def notebook_config(name: str) -> type[ConfigBase]:
    """The config class whose fields are the ``parameters`` cell of notebook ``name``."""
    if name not in NOTEBOOK_CONFIGS:
        raise AnimesionError(f"Unknown notebook '{name}'; choose one of: {', '.join(NOTEBOOK_CONFIGS)}.")
    module, cls = NOTEBOOK_CONFIGS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def notebook_path(name: str) -> Path:
    """``notebooks/<name>.ipynb`` of the project."""
    return project_root() / "notebooks" / f"{name}.ipynb"


def run_notebook(name: str, parameters: dict[str, Any] | None = None, parameters_file: str | Path | None = None,
                 output: str | Path | None = None, progress: bool = True) -> Path:
    """Execute notebook ``name`` with papermill into ``output`` (default ``outputs/notebooks/<name>.ipynb``).

    Parameters (from ``parameters_file``, then ``parameters`` on top) are checked against the
    notebook's config first, so a typo stops here with one sentence instead of being ignored.
    """
    import papermill

    values = dict(load_yaml(parameters_file)) if parameters_file else {}
    values.update(parameters or {})
    notebook_config(name).from_dict(values)
    out = resolve_path(output or f"outputs/notebooks/{name}.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook_path(name)), str(out), parameters=values, cwd=str(project_root() / "notebooks"),
        kernel_name="python3", progress_bar=progress,
    )
    return out
