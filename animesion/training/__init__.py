"""Training: the run loop, schedules, losses, checkpoints and run folders."""

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .trainer import TrainResult, train

__all__ = ["Checkpoint", "TrainResult", "load_checkpoint", "save_checkpoint", "train"]
