"""Training: the run loop, schedules, losses, checkpoints, resumable states and run folders."""

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .launch import launch, load_result
from .trainer import TrainResult, train

__all__ = ["Checkpoint", "TrainResult", "launch", "load_checkpoint", "load_result", "save_checkpoint", "train"]
