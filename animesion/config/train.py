"""Parameters of ``03_train`` (and of ``python -m animesion.train``): the original ``train.py`` flags."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.augment import policy_of
from ..data.layouts import LAYOUTS
from ..data.mask_schedules import MASK_SCHEDULES, MASKING_BEHAVIORS
from ..data.tokenization import TOKENIZERS
from ..errors import ConfigError
from ..models.backbones import backbone_for
from ..models.catalog import ARCHITECTURES, architecture_problem
from ..models.partial import PARTIAL_MODES
from ..models.spec import ModelSpec
from ..optim.schedules import LR_SCHEDULES
from ..optim.tag_losses import TAG_LOSSES
from ..strict import Strict, param


def optimizer_names() -> list[str]:
    """timm's optimizer names (imported only to check another value than the default)."""
    from ..optim.optimizers import optimizer_names as names

    return names()

RECIPE = ("opt", "learning_rate", "weight_decay", "momentum", "lr_scheduler", "warmup_steps", "smoothing", "aa",
          "scale", "reprob", "mixup", "cutmix", "mixup_prob", "mixup_switch_prob", "model_ema", "model_ema_decay",
          "model_ema_warmup", "drop_path", "layer_decay", "backbone")  # what parameters/train_recipe_*.yaml hold
# learning_rate None: the peak rate of an adaptive optimizer from scratch, by model family. Measured on real
# faces (holo20, 64 px, 15 epochs, batch 32, AdamW): shallow and resnet18 do best at 2e-3, where S_16
# collapses (about 32% test top-1; 70% at 1e-3, 76% at 5e-4). SGD-style optimizers need a rate of their own.
ADAPTIVE_LR = {"shallow": 2e-3, "torchvision": 2e-3, "vit": 5e-4}
ADAPTIVE_OPTS = ("adam", "adamw", "nadam", "nadamw", "radam", "lamb", "adamp")
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
    learning_rate: float | None = param(None, f"peak learning rate of opt; None: {ADAPTIVE_LR['torchvision']:g} for "
                                        f"CNNs, {ADAPTIVE_LR['vit']:g} for ViTs (adamw-style, from scratch)")
    lr_scheduler: str = param("warmupCosine", "learning-rate schedule", LR_SCHEDULES.names)
    epoch_decay: int = param(20, "epochDecayConstant: divide the LR by 3 every this many epochs")
    warmup_steps: int = param(50, "warmupCosine: linear warm-up steps before the cosine decay")
    pretrained: bool = param(False, "start from ImageNet weights")
    pretrained_path: str = param("", "local file of pretrained weights, for offline use")
    backbone: str = param("auto", "CNN start without ImageNet: auto (the package's), a python -m animesion.pretrain "
                          "file, '' random", legacy="")
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
    # The multi-label tag head (not original flags; the legacy values keep earlier runs' folder names).
    tag_head: bool = param(False, "also train a multi-label tag head over the train split's tags (any model)",
                           legacy=False)
    tag_loss: str = param("bce", "the tag head's loss: bce, or asl (timm's asymmetric loss)", TAG_LOSSES.names,
                          legacy="bce")
    tag_loss_weight: float = param(1.0, "weight of the tag loss against the class loss", legacy=1.0)
    tag_min_count: int = param(2, "tags on fewer train pictures than this are left out of the tag head", legacy=2)
    # Enrolment and "unknown" (not original flags; they change the calibration, not the weights).
    colour_weight: float = param(1.0, "weight of colour beside the embedding in telling characters apart (0: none)",
                                 legacy=0.0)
    false_unknown: float = param(0.2, "share of known pictures that may be called unknown; more calls more never-seen "
                                 "characters unknown", legacy=0.2)
    # The training recipe, named as timm's train.py flags (not original flags; their legacy values are the
    # original's recipe). parameters/train_recipe_original.yaml and train_recipe_modern.yaml set them all.
    opt: str = param("adamw", "optimizer, a timm name: adamw, lamb, sgd (Nesterov), momentum (the original's SGD), …",
                     optimizer_names, legacy="momentum")
    weight_decay: float = param(0.05, "weight decay (biases and norm weights are not decayed)", legacy=0.0)
    momentum: float = param(0.9, "momentum of the SGD-style optimizers", legacy=0.9)
    smoothing: float = param(0.1, "label smoothing of the class loss", legacy=0.0)
    aa: str | None = param("sourcetrivial", "augmentation: jitter (the original's), trivialaugment, sourcetrivial, "
                           "rand-m9-mstd0.5 …",
                           legacy="jitter")
    scale: list[float] | None = param([0.35, 1.0], "random-resized-crop area range; None: the original's resize "
                                      "and crop", legacy=None)
    reprob: float = param(0.1, "random-erasing probability (per-pixel noise)", legacy=0.0)
    mixup: float = param(0.0, "mixup alpha (0: off)", legacy=0.0)
    cutmix: float = param(0.0, "cutmix alpha (0: off)", legacy=0.0)
    mixup_prob: float = param(1.0, "probability of mixing a batch when mixup or cutmix is on", legacy=1.0)
    mixup_switch_prob: float = param(0.5, "probability of cutmix instead of mixup when both are on", legacy=0.5)
    model_ema: bool = param(False, "keep an exponential moving average of the weights; evaluate and save it",
                            legacy=False)
    model_ema_decay: float = param(0.998, "decay of the weight average", legacy=0.998)
    model_ema_warmup: bool = param(True, "ramp the decay up over the first steps (short runs need it)", legacy=True)
    drop_path: float = param(0.0, "stochastic depth rate of the ViT blocks", legacy=0.0)
    layer_decay: float | None = param(0.5, "LR decay per ViT block or CNN stage below the head, from learned "
                                      "weights; None: none", legacy=None)
    # Long runs: resuming, checkpoint retention, tracking and Accelerate (none of these are original flags).
    resume: bool = param(False, "continue from the newest checkpoint in the run folder, if there is one")
    keep_last: int = param(2, "keep this many newest resumable checkpoints (plus best-accuracy and best-loss)")
    tracker: str | None = param(None, "also log to TensorBoard (local files) or W&B (offline mode)", TRACKERS)
    mixed_precision: str = param("no", "Accelerate mixed precision; bf16/fp16 pay off on GPUs only", MIXED_PRECISION)
    gradient_accumulation_steps: int = param(1, "optimizer step every this many batches (effective batch grows)")
    num_processes: int = param(1, "processes that Accelerate's notebook launcher starts; 1 trains in this process")
    # Speed only: the same function computed faster (neither changes the run folder nor blocks resuming).
    channels_last: bool | None = param(None, "channels-last memory layout; None uses it for CNNs only")
    cache_images: bool | None = param(None, "keep decoded train/val pictures in memory; None: when they fit "
                                      "comfortably", legacy=None)
    compile: bool = param(False, "torch.compile the model: faster steps after slow first ones (needs a C++ compiler)")

    def validate(self) -> None:
        positive = ("image_size", "batch_size", "no_epochs", "log_freq", "save_checkpoint_freq", "epoch_decay",
                    "keep_last", "gradient_accumulation_steps", "num_processes", "learning_rate")
        for key in positive:
            if getattr(self, key) is not None and getattr(self, key) <= 0:
                self.fail(f"{key} must be positive, got {getattr(self, key)}.")
        for key in ("mask_wu_percent", "mask_cd_percent"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                self.fail(f"{key} must lie in [0, 1], got {getattr(self, key)}.")
        if self.no_cpu_workers < -1:
            self.fail(f"no_cpu_workers must be -1 (automatic) or more, got {self.no_cpu_workers}.")
        if self.learning_rate is None and self.opt not in ADAPTIVE_OPTS:
            self.fail(f"learning_rate None picks an adaptive optimizer's rate ({', '.join(ADAPTIVE_OPTS)}); with "
                      f"opt='{self.opt}' give learning_rate (the original recipe: momentum at 0.01).")
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
        if self.tag_head and self.mask_schedule is not None:
            self.fail("tag_head=True and a mask_schedule both train the model to predict tags; keep one (the tag "
                      "head works for every model, the masked tags for vision+tags ViTs).")
        if self.colour_weight < 0:
            self.fail(f"colour_weight must be ≥ 0 (0: the embedding alone), got {self.colour_weight}.")
        if not 0 < self.false_unknown < 1:
            self.fail(f"false_unknown must lie strictly between 0 and 1 (a share of pictures), got "
                      f"{self.false_unknown}.")
        if self.tag_loss_weight < 0 or self.tag_min_count < 1:
            self.fail(f"tag_loss_weight must be ≥ 0 and tag_min_count ≥ 1, got {self.tag_loss_weight} and "
                      f"{self.tag_min_count}.")
        if self.exclusion_loss and not self.interm_features_fc:
            self.fail("exclusion_loss needs interm_features_fc=True (it compares layers).")
        self._validate_recipe()
        if self.batch_size % self.num_processes:
            self.fail(f"batch_size ({self.batch_size}) must be a multiple of num_processes ({self.num_processes}).")

    def _validate_recipe(self) -> None:
        for key in ("weight_decay", "smoothing", "reprob", "mixup", "cutmix", "mixup_prob", "mixup_switch_prob"):
            value = getattr(self, key)
            if value < 0 or (key not in ("weight_decay", "mixup", "cutmix") and value > 1):
                self.fail(f"{key} must lie in [0, {'∞' if key in ('weight_decay', 'mixup', 'cutmix') else 1}], "
                          f"got {value}.")
        if not 0 <= self.momentum < 1 or not 0 < self.model_ema_decay < 1 or self.smoothing >= 1:
            self.fail(f"momentum and smoothing must lie in [0, 1) and model_ema_decay in (0, 1), got "
                      f"{self.momentum}, {self.smoothing} and {self.model_ema_decay}.")
        if self.aa is not None:
            try:
                policy_of(self.aa)
            except ConfigError as err:
                self.fail(str(err))
        if self.scale is not None and not (len(self.scale) == 2 and 0 < self.scale[0] <= self.scale[1] <= 1):
            self.fail(f"scale must be two shares of the picture's area, 0 < low ≤ high ≤ 1, or None; got {self.scale}.")
        if (self.mixup or self.cutmix) and self.multimodal:
            self.fail(f"mixup={self.mixup} / cutmix={self.cutmix} blend two pictures, but a multimodal model also "
                      "reads each picture's own tags, which cannot be blended; set mixup=0 and cutmix=0.")
        if self.layer_decay is not None and not 0 < self.layer_decay <= 1:
            self.fail(f"layer_decay must lie in (0, 1], got {self.layer_decay}.")
        problem = architecture_problem(self.model_name, image_size=self.image_size, drop_path=self.drop_path)
        if problem:
            self.fail(problem)

    @property
    def peak_lr(self) -> float:
        """The optimizer's peak learning rate: ``learning_rate``, or its model family's (ADAPTIVE_LR) for None."""
        if self.learning_rate is not None:
            return self.learning_rate
        return ADAPTIVE_LR[ARCHITECTURES.get(self.model_name).family]

    @property
    def backbone_used(self) -> str:
        """The backbone the model starts from: ``backbone`` with ``'auto'`` resolved for ``model_name``."""
        return backbone_for(self.backbone, self.model_name, self.pretrained)

    @property
    def layer_decay_used(self) -> float | None:
        """``layer_decay`` when the network starts from learned weights (ImageNet or a backbone), else None: from
        random weights the lower layers have nothing to keep."""
        return self.layer_decay if self.pretrained or self.backbone_used else None

    def model_spec(self, num_classes: int, vocab_size: int | None = None, num_tags: int = 0) -> ModelSpec:
        """The :class:`ModelSpec` of this run for a dataset of ``num_classes`` (and ``vocab_size`` tag ids, and
        ``num_tags`` tags for the tag head)."""
        return ModelSpec(model_name=self.model_name, num_classes=num_classes, image_size=self.image_size,
                         interm_features_fc=self.interm_features_fc, multimodal=self.multimodal,
                         vocab_size=vocab_size if self.multimodal else None, max_text_seq_len=self.max_text_seq_len,
                         masked_tag_head=self.multimodal and self.mask_schedule is not None,
                         num_tags=num_tags if self.tag_head else 0, drop_path=self.drop_path,
                         pretrained=self.pretrained, pretrained_path=self.pretrained_path,
                         backbone=self.backbone_used)
