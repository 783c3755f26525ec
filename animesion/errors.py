"""Errors that a user can fix, and how they are shown.

Every error the package raises on purpose is an :class:`AnimesionError` whose message is one sentence
that says what is wrong and what to do. In a notebook (and so under papermill) such an error is shown
as that one sentence instead of a stack trace; on the command line it is printed and the process exits
with status 2.
"""

from __future__ import annotations


class AnimesionError(Exception):
    """Base class for errors caused by input the user can fix (parameters, files, missing weights)."""

    def _render_traceback_(self) -> list[str]:
        """IPython's protocol for an exception that draws its own traceback: one line, ``Name: sentence``.

        ``InteractiveShell.showtraceback`` calls it for any exception that has it, so a notebook (and
        papermill, which stops on the cell's error output) shows the sentence with nothing installed or
        patched: importing the package leaves IPython as it is.
        """
        return [f"{type(self).__name__}: {self}"]


class ConfigError(AnimesionError, ValueError):
    """A parameter is unknown, of the wrong type, or not one of the allowed choices."""


class DataError(AnimesionError):
    """A dataset is missing, malformed or empty."""


class ImageLoadError(AnimesionError):
    """One image file could not be read; the caller reports it by name and goes on."""


class CheckpointError(AnimesionError):
    """A checkpoint is missing, unreadable, or does not fit the model."""
