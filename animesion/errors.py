"""Errors that a user can fix, and how they are shown.

Every error the package raises on purpose is an :class:`AnimesionError` whose message is one sentence
that says what is wrong and what to do. In a notebook (and so under papermill) such an error is shown
as that one sentence instead of a stack trace; on the command line it is printed and the process exits
with status 2.
"""

from __future__ import annotations


class AnimesionError(Exception):
    """Base class for errors caused by input the user can fix (parameters, files, missing weights)."""


class ConfigError(AnimesionError, ValueError):
    """A parameter is unknown, of the wrong type, or not one of the allowed choices."""


class DataError(AnimesionError):
    """A dataset is missing, malformed or empty."""


class ImageLoadError(AnimesionError):
    """One image file could not be read; the caller reports it by name and goes on."""


class CheckpointError(AnimesionError):
    """A checkpoint is missing, unreadable, or does not fit the model."""


def _notebook_handler(shell, etype, value, tb, tb_offset=None):  # IPython's custom-exception signature
    """Show an AnimesionError as one line: the kernel still reports an error, so papermill stops."""
    stb = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, stb)  # ipykernel sends this as the cell's error output
    return stb


def install_notebook_handler() -> bool:
    """Make IPython print AnimesionErrors as one sentence. Returns False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((AnimesionError,), _notebook_handler)
    return True
