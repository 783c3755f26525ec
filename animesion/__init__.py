"""Animesion Workbook: anime character recognition and tagging with PyTorch.

The package's own errors (bad parameters, missing files) are :class:`AnimesionError`: one sentence on the
command line, and one line in a notebook (see ``errors.py``).
"""

from .errors import AnimesionError

__version__ = "0.1.0"

__all__ = ["AnimesionError", "__version__"]
