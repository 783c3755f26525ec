"""Setting a run up: everything ``train()`` builds before the first epoch, held by one :class:`Session`.

``setup`` reads the data, builds the loaders, the network under its roles, the optimizer and schedule, the
weight average, the tag masking and the validation predictor, and restores a resumed run's state. The epoch
loop (:mod:`.loop`) and the finish (:mod:`.finish`) take the session and nothing else.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelerate import Accelerator
from accelerate.utils import set_seed
from timm.data import Mixup
from timm.utils import ModelEmaV3
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader

from ..config.train import TrainConfig
from ..data.augment import train_transform
from ..data.dataset import DatasetSplits, ImageDataset, fits_in_memory, load_dataset
from ..data.loaders import eval_loader
from ..data.mask_schedules import ScheduleSteps
from ..data.masking import TagMasker
from ..data.tag_set import TagSet
from ..data.tag_tokens import TaggedImages
from ..data.tokenization import build_tokenizer
from ..data.tokenization.base import TagTokenizer
from ..data.transforms import decode_size
from ..errors import ConfigError
from ..models.factory import count_parameters, create_model
from ..models.spec import ModelSpec
from ..optim.optimizers import create_optimizer
from ..optim.schedules import group_factors
from ..performance import prepare_model, resolve_workers
from ..prediction.predictor import Predictor
from ..tracking import PROJECT, hparams, init_kwargs
from .engine import BatchMixer, Networks, Stepper
from .losses import TrainingLoss
from .resume import Progress, Stateful, clear_states, newest_state, restore_state
from .rng import restore_rng
from .run_dir import RunDir
from .sampling import make_train_loader
from .tagging import TagTraining
from .weights import load_initial_weights
from .writer import BackgroundWriter

log = logging.getLogger("animesion")


@dataclass
class Session:
    """One run, set up: its config and folder, Accelerate and the background writer, the data and the
    prepared loaders (``train``, ``val``, ``test``), the step's parts (:class:`Stepper`, which holds the
    networks), the validation ``predictor`` (around the kept weights), what checkpoints carry (``meta``),
    what resumable states hold (``stateful``) and where the run stands (``progress``)."""

    config: TrainConfig
    run: RunDir
    accelerator: Accelerator
    writer: BackgroundWriter
    data: DatasetSplits
    loaders: dict[str, DataLoader]
    workers: int
    cached: bool
    spec: ModelSpec
    stepper: Stepper
    predictor: Predictor
    meta: dict[str, Any]
    stateful: dict[str, Stateful]
    progress: Progress
    steps_per_epoch: int
    max_steps: int | None = None  # ``debugging``: every loop stops after this many batches
    resumed_from: Path | None = None
    initial_weights: Path | None = None
    show_progress: bool = True

    @property
    def networks(self) -> Networks:
        return self.stepper.networks

    @property
    def tags(self) -> TagTraining | None:
        return self.stepper.tags

    @property
    def main(self) -> bool:
        """True in the process that writes files."""
        return self.accelerator.is_main_process


def should_cache(config: TrainConfig, data: DatasetSplits) -> bool:
    """``cache_images``, or for None whether the decoded train and val pictures fit the memory budget."""
    if config.cache_images is not None:
        return config.cache_images
    records = data.splits["train"] + data.splits["val"]
    return fits_in_memory(records, data.image_root, decode_size(config.image_size))


def build_loaders(config: TrainConfig, data: DatasetSplits, workers: int = 0, tokenizer: TagTokenizer | None = None,
                  cache: bool = False, tag_set: TagSet | None = None) -> dict[str, DataLoader]:
    """Train (the recipe's augmentation, epoch-seeded shuffle) and val/test loaders (:func:`eval_loader`: in
    order, every sample, as a predictor reads pictures). With a ``tokenizer`` (vision+tags models) every sample
    also carries its tags as tokens; with a ``tag_set`` (a tag head's) as multi-hot targets. ``cache``: train
    and val keep their decoded pictures in memory (test is read once)."""
    augment = train_transform(config.image_size, aa=config.aa, scale=config.scale, reprob=config.reprob)
    train = ImageDataset(data.splits["train"], data.image_root, augment, draft_size=decode_size(config.image_size),
                         cache=cache, tag_set=tag_set)
    if tokenizer is not None:
        train = TaggedImages(train, tokenizer, shuffle=config.shuffle_tokens)
    loaders = {"train": make_train_loader(train, config.batch_size, workers, config.seed)}
    for split in ("val", "test"):
        loaders[split] = eval_loader(data.splits[split], data.image_root, config.image_size, config.batch_size,
                                     workers, tokenizer=tokenizer, cache=cache and split == "val", tag_set=tag_set)
    return loaders


def setup(config: TrainConfig, run: RunDir, accelerator: Accelerator, writer: BackgroundWriter,
          show_progress: bool = True) -> Session:
    """Build everything the run needs, in an order that keeps the random streams of earlier versions."""
    set_seed(config.seed, device_specific=True)  # seed + process index: own dropout streams per process
    data = load_dataset(config.dataset_name, config.dataset_path, with_tags=config.multimodal or config.tag_head,
                        seed=config.seed, progress=show_progress)
    workers = resolve_workers(config.no_cpu_workers, accelerator.device.type, accelerator.num_processes)
    tokenizer = build_tokenizer(config.tokenizer, data, config.max_text_seq_len) if config.multimodal else None
    tag_set = head_tags(config, data)
    spec = config.model_spec(data.num_classes, tokenizer.vocab_size if tokenizer else None,
                             len(tag_set) if tag_set else 0)
    cached = should_cache(config, data)
    model = create_model(spec)
    loaded = load_initial_weights(model, config) if config.checkpoint_path else None
    if tokenizer is not None:
        model.use_tokenizer(tokenizer)
    module = prepare_model(model, channels_last=config.channels_last)  # same function, faster layout
    loaders = build_loaders(config, data, workers, tokenizer, cached, tag_set)
    log.info("%d data-loading worker process(es) per loader; decoded pictures %s", workers,
             "kept in memory" if cached else "decoded every epoch")
    max_steps = config.log_freq * 3 if config.debugging else None
    batches = min(len(loaders["train"]), max_steps or len(loaders["train"]))
    steps_per_epoch = math.ceil(batches / config.gradient_accumulation_steps)  # optimizer steps
    stepper, loaders = _stepper(config, accelerator, module, loaders, steps_per_epoch,
                                (data.num_classes, spec.num_tags), tokenizer)
    networks = stepper.networks
    predictor = Predictor(networks.kept, spec, data.class_names, device=accelerator.device,
                          mixed_precision=config.mixed_precision, tokenizer=tokenizer,
                          channels_last=config.channels_last, tag_set=tag_set)
    stateful = _stateful(stepper)
    progress, resumed_from = _start(config, run, accelerator, stateful)
    meta = {"spec": spec, "class_names": data.class_names, "training": config.to_dict(), "vocab": data.vocab,
            "tokenizer": tokenizer, "tag_head": {"tags": tag_set.to_meta()} if tag_set else None}
    session = Session(config, run, accelerator, writer, data, loaders, workers, cached, spec, stepper, predictor,
                      meta, stateful, progress, steps_per_epoch, max_steps, resumed_from, loaded, show_progress)
    _announce(session)
    return session


def _stepper(config: TrainConfig, accelerator: Accelerator, module: Any, loaders: dict[str, DataLoader],
             steps_per_epoch: int, outputs: tuple[int, int],
             tokenizer: TagTokenizer | None) -> tuple[Stepper, dict[str, DataLoader]]:
    """The optimizer, schedule, compiled and prepared network, weight average, loss, mixup and tag masking."""
    optimizer = create_optimizer(module, opt=config.opt, lr=config.peak_lr, weight_decay=config.weight_decay,
                                 momentum=config.momentum, layer_decay=config.layer_decay_used)
    scheduler = LambdaLR(optimizer, group_factors(config.lr_scheduler, optimizer.param_groups,
                                                  total_steps=steps_per_epoch * config.no_epochs,
                                                  warmup_steps=config.warmup_steps, steps_per_epoch=steps_per_epoch,
                                                  epoch_decay=config.epoch_decay))
    compiled = prepare_model(module, channels_last=False, compile=config.compile)
    step, optimizer, scheduler, *prepared = accelerator.prepare(
        compiled, optimizer, scheduler, loaders["train"], loaders["val"], loaders["test"])
    module = accelerator.unwrap_model(step, keep_torch_compile=False)  # on its device now
    ema = (ModelEmaV3(module, decay=config.model_ema_decay, use_warmup=config.model_ema_warmup)
           if config.model_ema else None)
    tags = _tag_training(config, tokenizer, steps_per_epoch * config.no_epochs)
    stepper = Stepper(Networks(module, step, ema), optimizer, scheduler, TrainingLoss(config), accelerator,
                      _mixup(config, *outputs), tags)
    return stepper, dict(zip(("train", "val", "test"), prepared))


def head_tags(config: TrainConfig, data: DatasetSplits) -> TagSet | None:
    """The tag head's tags (``tag_head``): the train split's, seen on ``tag_min_count`` pictures or more."""
    if not config.tag_head:
        return None
    tag_set = TagSet.build(data.splits["train"], config.tag_min_count)
    if not len(tag_set):
        raise ConfigError(f"tag_head=True needs tagged pictures, but no tag is on {config.tag_min_count} or more of "
                          f"{data.name}'s train pictures; give the dataset tags (02 reads caption files) or set "
                          "tag_head=False.")
    return tag_set


def _stateful(stepper: Stepper) -> dict[str, Stateful]:
    """Everything a resumed run needs back, the weight average and the tag masker's step included. The plain
    module (no DDP or torch.compile wrapper), so states load whether or not the run compiles."""
    stateful: dict[str, Stateful] = {"model": stepper.networks.module, "optimizer": stepper.optimizer,
                                     "lr_scheduler": stepper.scheduler}
    if stepper.networks.ema is not None:
        stateful["model_ema"] = stepper.networks.ema
    if stepper.tags is not None:
        stateful["mask_scheduler"] = stepper.tags.masker
    return stateful


def _mixup(config: TrainConfig, num_classes: int, num_tags: int) -> BatchMixer | None:
    """timm's batch mixer for ``mixup``/``cutmix`` over the classes and the tag head's tags (None when both
    alphas are 0); the label smoothing is applied to the classes."""
    if not (config.mixup or config.cutmix):
        return None
    mixup = Mixup(mixup_alpha=config.mixup, cutmix_alpha=config.cutmix, prob=config.mixup_prob,
                  switch_prob=config.mixup_switch_prob, label_smoothing=0.0, num_classes=num_classes + num_tags,
                  multi_label=True)
    return BatchMixer(mixup, num_classes, config.smoothing)


def _tag_training(config: TrainConfig, tokenizer: TagTokenizer | None, total_steps: int) -> TagTraining | None:
    """The masker of ``mask_schedule`` over ``total_steps`` optimizer steps (None without a schedule)."""
    if tokenizer is None or config.mask_schedule is None:
        return None
    steps = ScheduleSteps.from_fractions(total_steps, config.mask_wu_percent, config.mask_cd_percent)
    masker = TagMasker(config.mask_schedule, steps, mask_id=tokenizer.mask_id, vocab_size=tokenizer.vocab_size,
                       special_ids=tokenizer.special_ids, behavior=config.masking_behavior)
    return TagTraining(masker, tokenizer)


def _start(config: TrainConfig, run: RunDir, accelerator: Accelerator,
           stateful: dict[str, Stateful]) -> tuple[Progress, Path | None]:
    """A fresh run's empty progress, or the restored progress of the newest state when resuming."""
    found = newest_state(run, config) if config.resume else None
    if found is None:
        if config.resume:
            log.info("resume: '%s' holds no checkpoint yet, so the run starts from the beginning", run.path)
        if accelerator.is_main_process:
            clear_states(run)
            run.reset_history()
            run.write_params(config)
        return Progress(), None
    path, saved = found
    progress = restore_state(saved, stateful)
    rng = saved["rng"]
    if len(rng) == accelerator.num_processes:
        restore_rng(rng[accelerator.process_index])
    else:
        log.warning("the checkpoint was written by %d process(es), this run has %d: random streams (dropout) "
                    "start afresh, so the run is not bit-for-bit the uninterrupted one", len(rng),
                    accelerator.num_processes)
    if accelerator.is_main_process:
        run.write_history(progress.history)
        run.write_params(config)
    log.info("resumed from %s: epoch %d done, optimizer step %d", path, progress.epoch, progress.step)
    return progress, path


def _announce(session: Session) -> None:
    """The run's set-up in the log (and the trackers started): data, model, devices and recipe."""
    s, c, data = session, session.config, session.data
    log.info("run %s: %s on %s (%d classes, %s train / %s val / %s test images), %d parameters, %d process(es) "
             "on %s, mixed precision %s; %s lr %.2e, weight decay %s, smoothing %s, aa %s, scale %s, reprob %s, "
             "mixup %s, cutmix %s, EMA %s", s.run.name, c.model_name, c.dataset_name, data.num_classes,
             len(data.splits["train"]), len(data.splits["val"]), len(data.splits["test"]),
             count_parameters(s.networks.module), s.accelerator.num_processes, s.accelerator.device,
             s.accelerator.mixed_precision, c.opt, c.peak_lr, c.weight_decay, c.smoothing, c.aa, c.scale, c.reprob,
             c.mixup, c.cutmix, c.model_ema_decay if c.model_ema else "off")
    if c.tracker:
        s.accelerator.init_trackers(PROJECT, config=hparams(c),
                                    init_kwargs=init_kwargs(s.run.name, str(s.run.tracking_path)))
    tokenizer = s.meta["tokenizer"]
    if tokenizer is not None:
        log.info("tags: %s tokenizer, %d ids, %s", c.tokenizer, tokenizer.vocab_size, tokenizer.source)
        if s.tags is None:
            log.warning("multimodal without a mask_schedule: the model reads the true tags in training but "
                        "only masked tags at evaluation, so its test accuracy does not show what it learned "
                        "from tags; set mask_schedule to train it to predict them")


__all__ = ["Session", "build_loaders", "head_tags", "setup", "should_cache"]
