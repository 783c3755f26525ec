"""``03_train``: the run loop, losses, resumable states, run folders and their figures (``train``, ``launch``)."""

from .launch import launch, load_result
from .run_dir import TrainResult
from .trainer import train

__all__ = ["TrainResult", "launch", "load_result", "train"]
