"""The notebooks as a whole: which config each one takes, and running them headless with papermill."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .errors import AnimesionError
from .paths import project_root, resolve_path
from .strict import Strict, load_yaml

# notebook name → "module:Class" of its config (imported lazily so this table stays cheap)
NOTEBOOK_CONFIGS: dict[str, str] = {
    "01_data_exploration": "animesion.config.explore:ExploreConfig",
    "02_make_dataset": "animesion.config.make_dataset:MakeDatasetConfig",
    "03_train": "animesion.config.train:TrainConfig",
    "04_evaluate": "animesion.config.evaluate:EvaluateConfig",
    "05_inference": "animesion.config.inference:InferenceConfig",
    "06_attention_viz": "animesion.config.attention:AttentionConfig",
}


# parameters/<prefix>*.yaml files are parameter sets of this notebook
PARAMETER_PREFIXES: dict[str, str] = {
    "explore": "01_data_exploration",
    "make_dataset": "02_make_dataset",
    "train": "03_train",
    "quickstart": "03_train",
    "evaluate": "04_evaluate",
    "inference": "05_inference",
    "attention": "06_attention_viz",
}


def notebook_for_parameters(path: str | Path) -> str:
    """The notebook a ``parameters/*.yaml`` file belongs to, from its name's prefix."""
    stem = Path(path).stem
    for prefix, notebook in PARAMETER_PREFIXES.items():
        if stem.startswith(prefix):
            return notebook
    raise AnimesionError(
        f"'{Path(path).name}' does not start with a notebook prefix ({', '.join(PARAMETER_PREFIXES)})."
    )


def notebook_config(name: str) -> type[Strict]:
    """The config class whose fields are the ``parameters`` cell of notebook ``name``."""
    if name not in NOTEBOOK_CONFIGS:
        raise AnimesionError(f"Unknown notebook '{name}'; choose one of: {', '.join(NOTEBOOK_CONFIGS)}.")
    module, cls = NOTEBOOK_CONFIGS[name].split(":")
    return getattr(importlib.import_module(module), cls)


# How papermill's kernel runs (traitlets config for jupyter_client and nbclient):
# - over local IPC sockets rather than TCP: nothing listens on a port, and ipykernel has no reason to warn
#   that TCP is unencrypted;
# - with the kernel's own log at CRITICAL: jupyter_client interrupts every kernel it shuts down, and a
#   kernel that is still flushing a message then logs "ERROR | KeyboardInterrupt caught in kernel" after a
#   successful run. Errors in cells are not kernel log lines: they are in the executed notebook, and
#   papermill raises them.
KERNEL_CONFIG = {"KernelManager": {"transport": "ipc"},
                 "NotebookClient": {"extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}}


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
    from traitlets.config import Config

    values = dict(load_yaml(parameters_file)) if parameters_file else {}
    values.update(parameters or {})
    notebook_config(name).from_dict(values)
    out = resolve_path(output or f"outputs/notebooks/{name}.ipynb")
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook_path(name)), str(out), parameters=values, cwd=str(project_root() / "notebooks"),
        kernel_name="python3", progress_bar=progress, config=Config(KERNEL_CONFIG),
    )
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m animesion.workbook NOTEBOOK [-f FILE.yaml] [-p NAME VALUE ...]``: papermill with checks.

    Parameters are validated before the kernel starts, and any error is printed as one sentence.
    """
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("notebook", help=f"one of: {', '.join(NOTEBOOK_CONFIGS)}")
    parser.add_argument("-f", "--parameters-file", help="a parameters/*.yaml file")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="one parameter, its value read as YAML (e.g. -p no_epochs 5)")
    parser.add_argument("-o", "--output", help="executed notebook (default outputs/notebooks/NOTEBOOK.ipynb)")
    args = parser.parse_args(argv)
    import yaml

    params = {name: yaml.safe_load(value) for name, value in args.parameter}
    try:
        out = run_notebook(args.notebook, params, args.parameters_file, args.output)
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # papermill's execution error: its last line is the cause
        print(f"error: {str(err).strip().splitlines()[-1]}", file=sys.stderr)
        return 1
    print(f"executed notebook: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
