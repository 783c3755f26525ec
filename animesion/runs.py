"""Finding run folders and their checkpoints, so later notebooks can default to the latest run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import CheckpointError
from .models.checkpoint import SHARED_META, checkpoint_location
from .paths import resolve_path


def find_checkpoint(checkpoint_path: str, results_dir: str, tag: str = "best",
                    accept: Callable[[Path], bool] | None = None) -> Path:
    """``checkpoint_path`` if given (a file, a shared folder or ``hf-hub:user/name``), else ``<tag>.safetensors``
    of the newest run in ``results_dir``.

    ``accept`` can restrict the search (e.g. to ViT runs for attention maps).
    """
    if checkpoint_path:
        path = checkpoint_location(checkpoint_path)
        if not (path.is_file() or (path / SHARED_META).is_file()):
            raise CheckpointError(f"checkpoint_path '{path}' does not exist." if not path.exists() else
                                  f"checkpoint_path '{path}' is a folder without {SHARED_META}: give a checkpoint "
                                  "file, or a folder written by python -m animesion.export.")
        return path
    root = resolve_path(results_dir)
    candidates = [p for p in root.glob(f"*/{tag}.safetensors") if accept is None or accept(p)]
    if not candidates:
        raise CheckpointError(
            f"No '{tag}.safetensors' checkpoint under '{root}'; run 03_train first or set checkpoint_path."
        )
    return max(candidates, key=lambda p: p.stat().st_mtime)
