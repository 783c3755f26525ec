"""Hugging Face Accelerate set-up for training: devices, DDP, mixed precision, gradient accumulation.

One code path serves a laptop CPU, one GPU, ``accelerate launch`` over several GPUs and Accelerate's
notebook launcher. ``batch_size`` stays the global batch (``split_batches``), so the same parameters
train the same model whatever the number of processes.
"""

from __future__ import annotations

import os

import torch
from accelerate import Accelerator, DataLoaderConfiguration
from accelerate.state import AcceleratorState, GradientState
from accelerate.utils import ProjectConfiguration

from ..config.train import TrainConfig
from ..errors import ConfigError
from ..prediction.predictions import Predictions
from ..tracking import trackers_for
from .run_dir import RunDir


def forget_single_process_state() -> None:
    """Clear Accelerate's process-wide settings left by a finished single-process run.

    Accelerate keeps them in a singleton and refuses another ``mixed_precision`` in the same Python
    process, and its notebook launcher refuses to start while they exist. A distributed run's
    settings are left alone: they belong to the launcher.
    """
    if AcceleratorState._shared_state.get("num_processes", 1) == 1:
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()


def make_accelerator(config: TrainConfig, run: RunDir) -> Accelerator:
    """An Accelerator for ``config``, with its trackers (if any) logging into the run folder."""
    forget_single_process_state()
    # Accelerate only uses gloo between CPU processes when told "cpu"; several launched processes and
    # no CUDA means exactly that (``accelerate launch --multi_gpu``, torchrun or the notebook launcher).
    cpu = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()
    accelerator = Accelerator(
        cpu=cpu,
        mixed_precision=config.mixed_precision,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        dataloader_config=DataLoaderConfiguration(split_batches=True),
        log_with=trackers_for(config),
        project_config=ProjectConfiguration(project_dir=str(run.path), logging_dir=str(run.tracking_path)),
    )
    problem = _unsupported(config, accelerator)
    if problem:
        forget_single_process_state()
        raise ConfigError(problem)
    return accelerator


def _unsupported(config: TrainConfig, accelerator: Accelerator) -> str | None:
    """Why ``config`` cannot train with this ``accelerator``, in one sentence; None when it can."""
    if config.mixed_precision == "fp16" and accelerator.device.type == "cpu":
        return "TrainConfig: mixed_precision='fp16' needs a GPU; use 'bf16' or 'no' on the CPU."
    if config.batch_size % accelerator.num_processes:
        return (f"TrainConfig: batch_size ({config.batch_size}) must be a multiple of the number of processes "
                f"({accelerator.num_processes}), since every process takes an equal share of each batch.")
    return None


def gather_predictions(accelerator: Accelerator, preds: Predictions) -> Predictions:
    """Every process's :class:`Predictions` merged, each dataset sample exactly once, in dataset order.

    Accelerate pads the last evaluation batch by repeating samples so all processes get equal batches;
    ``gather_for_metrics`` trims those per batch, while here the whole split is gathered in one
    collective and the repeats are dropped by their dataset index (so a batch whose images were all
    unreadable on one process cannot leave the processes waiting for each other).
    """
    if accelerator.num_processes == 1:
        return preds
    fields = {name: getattr(preds, name).to(accelerator.device) for name in Predictions.names()
              if getattr(preds, name) is not None}  # token_pred/token_loss exist for tag models only
    fields["indices"] = fields["indices"] + 1  # 0 marks the padding added below
    fields = {name: accelerator.gather(accelerator.pad_across_processes(t, dim=0)).cpu() for name, t in fields.items()}
    indices = fields["indices"] - 1
    order = torch.argsort(indices, stable=True)
    first = torch.ones_like(order, dtype=torch.bool)
    first[1:] = indices[order][1:] != indices[order][:-1]
    keep = order[first & (indices[order] >= 0)]
    fields["indices"] = indices
    return Predictions(**{name: t[keep] for name, t in fields.items()})
