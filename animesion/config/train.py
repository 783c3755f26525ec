"""Parameters of ``03_train`` (and of ``python -m animesion.train``): the original ``train.py`` flags."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.layouts import LAYOUTS
from ..data.mask_schedules import MASK_SCHEDULES, MASKING_BEHAVIORS
from ..data.tokenization import TOKENIZERS
from ..models.catalog import ARCHITECTURES, architecture_problem
from ..models.partial import PARTIAL_MODES
from ..models.spec import ModelSpec
from ..optim.schedules import LR_SCHEDULES
from ..strict import Strict, param

TRACKERS = ("tensorboard", "wandb")  # Accelerate's tracker names that this workbook sets up
MIXED_PRECISION = ("no", "bf16", "fp16")  # Accelerate's mixed_precision values


@dataclass
class TrainConfig(Strict):
    """Everything one training run needs. Defaults are the quickstart: a CPU run in a few minutes."""

    dataset_name: str = param("synthetic", "which dataset to use", LAYOUTS.names)
    dataset_path: str = param("data/synthetic", "dataset root (relative paths start at the project root)")
    model_name: str = param("shallow", "model architecture", ARCHITECTURES.names)
    results_dir: str = param("outputs", "where run folders are written")
    image_size: int = param(64, "square input resolution in pixels")
    batch_size: int = param(32, "batch size for train/val/test (the global batch, split across processes)")
    no_epochs: int = param(30, "number of training epochs")
    learning_rate: float = param(0.03, "initial (peak) learning rate for SGD with momentum 0.9")
    lr_scheduler: str = param("warmupCosine", "learning-rate schedule", LR_SCHEDULES.names)
    epoch_decay: int = param(20, "epochDecayConstant: divide the LR by 3 every this many epochs")
    warmup_steps: int = param(50, "warmupCosine: linear warm-up steps before the cosine decay")
    pretrained: bool = param(False, "start from ImageNet weights")
    pretrained_path: str = param("", "local file of pretrained weights, for offline use")
    checkpoint_path: str = param("", "checkpoint to continue from or transfer")
    transfer_learning: bool = param(False, "reset the classifier when loading checkpoint_path")
    load_partial_mode: str | None = param(None, "load only parts of a ViT checkpoint", PARTIAL_MODES.names)
    log_freq: int = param(50, "log every this many training steps")
    save_checkpoint_freq: int = param(1, "write a resumable checkpoint every this many epochs (and after the last)")
    no_cpu_workers: int = param(-1, "data-loading worker processes (0: the main process; -1: chosen for the cores)")
    seed: int = param(0, "random seed")
    interm_features_fc: bool = param(False, "IFA head: classify from every layer's class token (ViTs)")
    debugging: bool = param(False, "shorten every loop to log_freq*3 steps")
    exclusion_loss: bool = param(False, "layer-wise exclusion loss (needs interm_features_fc)")
    temperature: float = param(1.0, "temperature of the exclusion loss")
    exclusion_weight: float = param(0.01, "weight of the exclusion loss")
    exc_layers_dist: int = param(2, "layer distance between the pairs compared by the exclusion loss")
    multimodal: bool = param(False, "vision+tags model (ViTs)")
    max_text_seq_len: int = param(16, "tag sequence length, for padding and truncation")
    mask_schedule: str | None = param(None, "masked-tag schedule", MASK_SCHEDULES.names)
    mask_wu_percent: float = param(0.1, "sigmoid schedule: share of steps with no masking")
    mask_cd_percent: float = param(0.5, "sigmoid schedule: share of steps with full masking")
    ret_attn_scores: bool = param(False, "accepted for compatibility, ignored: attention comes from 06_attention_viz")
    tokenizer: str = param("tag", "tag tokenizer", TOKENIZERS.names)
    masking_behavior: str = param("constant", "masked tokens become id 1 or a random id", MASKING_BEHAVIORS.names)
    shuffle_tokens: bool = param(False, "shuffle the tag order of each sample")
    run_name: str = param("", "run folder name; empty derives it from the parameters")
    # Long runs: resuming, checkpoint retention, tracking and Accelerate (none of these are original flags).
    resume: bool = param(False, "continue from the newest checkpoint in the run folder, if there is one")
    keep_last: int = param(2, "keep this many newest resumable checkpoints (plus best-accuracy and best-loss)")
    tracker: str | None = param(None, "also log to TensorBoard (local files) or W&B (offline mode)", TRACKERS)
    mixed_precision: str = param("no", "Accelerate mixed precision; bf16/fp16 pay off on GPUs only", MIXED_PRECISION)
    gradient_accumulation_steps: int = param(1, "optimizer step every this many batches (effective batch grows)")
    num_processes: int = param(1, "processes that Accelerate's notebook launcher starts; 1 trains in this process")
    # Speed only: the same function computed faster (neither changes the run folder nor blocks resuming).
    channels_last: bool | None = param(None, "channels-last memory layout; None uses it for CNNs only")
    compile: bool = param(False, "torch.compile the model: faster steps after slow first ones (needs a C++ compiler)")

    def validate(self) -> None:
        positive = ("image_size", "batch_size", "no_epochs", "log_freq", "save_checkpoint_freq", "epoch_decay",
                    "keep_last", "gradient_accumulation_steps", "num_processes", "learning_rate")
        for key in positive:
            if getattr(self, key) <= 0:
                self.fail(f"{key} must be positive, got {getattr(self, key)}.")
        for key in ("mask_wu_percent", "mask_cd_percent"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                self.fail(f"{key} must lie in [0, 1], got {getattr(self, key)}.")
        if self.no_cpu_workers < -1:
            self.fail(f"no_cpu_workers must be -1 (automatic) or more, got {self.no_cpu_workers}.")
        if self.warmup_steps < 0:
            self.fail(f"warmup_steps must not be negative, got {self.warmup_steps}.")
        if self.mask_wu_percent + self.mask_cd_percent > 1.0:
            self.fail("mask_wu_percent + mask_cd_percent must not exceed 1 (they are shares of the same steps), "
                      f"got {self.mask_wu_percent} + {self.mask_cd_percent}.")
        if self.mask_schedule is not None and not self.multimodal:
            self.fail(f"mask_schedule='{self.mask_schedule}' masks tag tokens, which only multimodal=True models "
                      "read; set multimodal=True or mask_schedule=None.")
        if self.max_text_seq_len < 3:
            self.fail("max_text_seq_len must leave room for [CLS], one tag and [SEP] (≥ 3), got "
                      f"{self.max_text_seq_len}.")
        problem = architecture_problem(self.model_name, image_size=self.image_size,
                                       interm_features_fc=self.interm_features_fc, multimodal=self.multimodal,
                                       pretrained=self.pretrained)
        if problem:
            self.fail(problem)
        if self.exclusion_loss and not self.interm_features_fc:
            self.fail("exclusion_loss needs interm_features_fc=True (it compares layers).")
        if self.batch_size % self.num_processes:
            self.fail(f"batch_size ({self.batch_size}) must be a multiple of num_processes ({self.num_processes}).")

    def model_spec(self, num_classes: int, vocab_size: int | None = None) -> ModelSpec:
        """The :class:`ModelSpec` of this run for a dataset of ``num_classes`` (and ``vocab_size`` tag ids)."""
        return ModelSpec(model_name=self.model_name, num_classes=num_classes, image_size=self.image_size,
                         interm_features_fc=self.interm_features_fc, multimodal=self.multimodal,
                         vocab_size=vocab_size if self.multimodal else None, max_text_seq_len=self.max_text_seq_len,
                         tag_head=self.multimodal and self.mask_schedule is not None, pretrained=self.pretrained,
                         pretrained_path=self.pretrained_path)
