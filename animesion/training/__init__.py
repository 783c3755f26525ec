"""``03_train``: the run loop, losses, resumable states, run folders and their figures (``train``, ``launch``)."""

from .launch import launch, load_result
from .trainer import TrainResult, train

__all__ = ["TrainResult", "launch", "load_result", "train"]
