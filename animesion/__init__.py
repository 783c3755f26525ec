"""Animesion Workbook: anime character recognition and tagging with PyTorch.

Importing the package inside IPython makes its own errors (bad parameters, missing files) show as one
sentence instead of a stack trace.
"""

from .errors import AnimesionError, install_notebook_handler

__version__ = "0.1.0"
install_notebook_handler()

__all__ = ["AnimesionError", "__version__"]
