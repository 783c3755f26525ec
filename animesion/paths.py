"""Resolving user paths the same way from JupyterLab, papermill and the command line."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The workbook's root: ``ANIMESION_ROOT``, else the nearest folder above the working directory
    that holds both ``pyproject.toml`` and ``notebooks/``, else the working directory."""
    if os.environ.get("ANIMESION_ROOT"):
        return Path(os.environ["ANIMESION_ROOT"]).resolve()
    cwd = Path.cwd().resolve()
    for folder in (cwd, *cwd.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return cwd


def resolve_path(path: str | Path) -> Path:
    """An absolute path; relative paths start at :func:`project_root`, so notebooks in ``notebooks/``
    and scripts run from the root see the same ``data/`` and ``outputs/``."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else project_root() / path


def shown_path(file: str | Path, folder: Path) -> str:
    """``file`` as a person reads it in a table or a printout: its path inside ``folder``, else as given."""
    path = Path(file)
    return path.relative_to(folder).as_posix() if path.is_relative_to(folder) else str(file)
