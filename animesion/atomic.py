"""Writing files so that a crash or a full disk never leaves a half-written file in place."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import CheckpointError


def _mode_for(path: Path) -> int:
    """The permissions a file written at ``path`` gets: those of the file it replaces, else what ``open`` would
    give a new file (0666 less the umask)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, fsync it, then ``os.replace`` it in.

    On any failure the temporary file is removed and the previous ``path`` stays as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        os.chmod(tmp_name, _mode_for(path))  # mkstemp's 0600 would hide a checkpoint from the user's group
    except OSError as err:
        raise CheckpointError(f"Cannot write to '{path.parent}': {err.strerror or err}.") from None
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        reason = err.strerror or err
        raise CheckpointError(f"Could not write '{path}' ({reason}); the previous file is intact.") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_link(source: str | Path, path: str | Path) -> Path:
    """Make ``path`` the same file as ``source``: a hard link where the file system has them, else a copy;
    atomically, as :func:`atomic_write`. Later replacing ``source`` leaves ``path`` as it was."""

    def link(tmp: Path) -> None:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)

    return atomic_write(path, link)
