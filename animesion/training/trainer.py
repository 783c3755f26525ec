"""``train(config)``: the whole run of ``03_train``, from data to test metrics, in one call.

The run goes through Hugging Face Accelerate, so the same call trains on a CPU, one GPU, or several
processes started by ``accelerate launch`` or the notebook launcher. Only the main process writes files.
The recipe (optimizer, augmentation, label smoothing, mixup/cutmix, weight averaging, drop-path, layer
decay) is built from timm's and torchvision's parts by the config's recipe parameters.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from accelerate import Accelerator
from accelerate.utils import gather_object, set_seed
from timm.data import Mixup
from timm.utils import ModelEmaV3
from torch import nn
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader

from ..atomic import atomic_link, atomic_write
from ..config.train import TrainConfig
from ..data.augment import train_transform
from ..data.dataset import DatasetSplits, ImageDataset, fits_in_memory, load_dataset, make_loader
from ..data.mask_schedules import ScheduleSteps
from ..data.masking import TagMasker
from ..data.tag_tokens import TaggedImages
from ..data.tokenization import build_tokenizer
from ..data.tokenization.base import TagTokenizer
from ..data.transforms import build_transform, decode_size
from ..evaluation.metrics import summary
from ..evaluation.tag_results import TEST_TAGS_FILE, TagResults, tag_results
from ..models.checkpoint import load_checkpoint, save_checkpoint, weights_of
from ..models.factory import count_parameters, create_model
from ..optim.optimizers import create_optimizer
from ..optim.schedules import group_factors
from ..performance import prepare_model, resolve_workers
from ..prediction.predictions import Predictions
from ..prediction.predictor import Predictor
from ..tracking import PROJECT, hparams, init_kwargs
from ..utils.progress import progress_bar
from .calibration import calibrate_best, store_calibration
from .distributed import forget_single_process_state, gather_predictions, make_accelerator
from .engine import Stepper, train_one_epoch
from .figures import write_figures
from .losses import TrainingLoss
from .resume import (
    Progress,
    Stateful,
    check_same_run,
    clear_states,
    newest_state,
    prune_states,
    restore_state,
    save_state,
)
from .rng import capture_rng, restore_rng
from .run_dir import RunDir, TrainResult
from .sampling import make_train_loader
from .tagging import TagTraining
from .weights import load_initial_weights
from .writer import BackgroundWriter, detached_copy

log = logging.getLogger("animesion")


class Callback(Protocol):
    """Something that watches training, e.g. the notebook's live plot."""

    def on_epoch_end(self, history: pd.DataFrame) -> None:
        """Called after every epoch with the history so far (one row per epoch)."""


def should_cache(config: TrainConfig, data: DatasetSplits) -> bool:
    """``cache_images``, or for None whether the decoded train and val pictures fit the memory budget."""
    if config.cache_images is not None:
        return config.cache_images
    records = data.splits["train"] + data.splits["val"]
    return fits_in_memory(records, data.image_root, decode_size(config.image_size))


def build_loaders(config: TrainConfig, data: DatasetSplits, workers: int = 0,
                  tokenizer: TagTokenizer | None = None, cache: bool = False) -> dict[str, DataLoader]:
    """Train (the recipe's augmentation, epoch-seeded shuffle) and val/test (in order, every sample) loaders.

    ``workers``: loader processes per loader (``config.no_cpu_workers`` resolved for the device). With a
    ``tokenizer`` (vision+tags models) every sample also carries its tags as tokens. Val and test are
    read as a :class:`Predictor` reads pictures (its eval transform and decode size). ``cache``: train and
    val keep their decoded pictures in memory (the test split is read once).
    """
    transforms = {"train": train_transform(config.image_size, aa=config.aa, scale=config.scale, reprob=config.reprob)}
    loaders = {}
    for split, records in data.splits.items():
        train = split == "train"
        transform = transforms.get(split) or build_transform(config.image_size, train=False)
        dataset = ImageDataset(records, data.image_root, transform, draft_size=decode_size(config.image_size),
                               cache=cache and split != "test")
        if tokenizer is not None:
            dataset = TaggedImages(dataset, tokenizer, shuffle=train and config.shuffle_tokens)
        if train:
            loaders[split] = make_train_loader(dataset, config.batch_size, workers, config.seed)
        else:
            loaders[split] = make_loader(dataset, config.batch_size, False, workers, config.seed)
    return loaders


def train(config: TrainConfig, callbacks: Sequence[Callback] = (), progress: bool = True) -> TrainResult:
    """Train ``config.model_name`` on ``config.dataset_name``, validating every epoch and testing at the end.

    Writes ``results_dir/<run_name>/``: params.yaml, history.csv, metrics.json, train.log, the best-accuracy
    (``best``), best-loss and last weights (the weight average with ``model_ema``), resumable states in
    ``checkpoints/`` while the run goes on, figures and tracker files. With ``resume=True`` it continues
    from the newest state there; a finished run is returned as it is.
    """
    run = RunDir(config)
    if config.resume and run.finished:
        check_same_run(run.params(), config, run.path)
        log.info("resume: '%s' already finished; nothing to train", run.path)
        return run.result()
    accelerator = make_accelerator(config, run)
    main = accelerator.is_main_process
    handler = run.file_logger() if main else logging.NullHandler()
    log.addHandler(handler)
    log.setLevel(logging.INFO if main else logging.WARNING)
    writer = BackgroundWriter()
    try:
        return _train(config, run, accelerator, callbacks if main else (), progress and main, writer)
    finally:
        writer.close()
        accelerator.end_training()
        log.removeHandler(handler)
        handler.close()
        forget_single_process_state()


def _train(config: TrainConfig, run: RunDir, accelerator: Accelerator, callbacks: Sequence[Callback],
           progress: bool, writer: BackgroundWriter) -> TrainResult:
    set_seed(config.seed, device_specific=True)  # seed + process index: own dropout streams per process
    data = load_dataset(config.dataset_name, config.dataset_path, with_tags=config.multimodal, seed=config.seed,
                        progress=progress)
    workers = resolve_workers(config.no_cpu_workers, accelerator.device.type, accelerator.num_processes)
    tokenizer = build_tokenizer(config.tokenizer, data, config.max_text_seq_len) if config.multimodal else None
    cache = should_cache(config, data)
    loaders = build_loaders(config, data, workers, tokenizer, cache)
    log.info("%d data-loading worker process(es) per loader; decoded pictures %s", workers,
             "kept in memory" if cache else "decoded every epoch")
    spec = config.model_spec(data.num_classes, tokenizer.vocab_size if tokenizer else None)
    model = create_model(spec)
    loaded = load_initial_weights(model, config) if config.checkpoint_path else None
    if tokenizer is not None:
        model.use_tokenizer(tokenizer)
    plain = prepare_model(model, channels_last=config.channels_last)  # same function, faster layout
    max_steps = config.log_freq * 3 if config.debugging else None
    batches = min(len(loaders["train"]), max_steps or len(loaders["train"]))
    steps_per_epoch = math.ceil(batches / config.gradient_accumulation_steps)  # optimizer steps
    optimizer = create_optimizer(plain, opt=config.opt, lr=config.peak_lr, weight_decay=config.weight_decay,
                                 momentum=config.momentum, layer_decay=config.layer_decay)
    scheduler = LambdaLR(optimizer, group_factors(config.lr_scheduler, optimizer.param_groups,
                                                  total_steps=steps_per_epoch * config.no_epochs,
                                                  warmup_steps=config.warmup_steps, steps_per_epoch=steps_per_epoch,
                                                  epoch_decay=config.epoch_decay))
    compiled = prepare_model(plain, channels_last=False, compile=config.compile)
    model, optimizer, scheduler, train_loader, val_loader, test_loader = accelerator.prepare(
        compiled, optimizer, scheduler, loaders["train"], loaders["val"], loaders["test"])
    plain = accelerator.unwrap_model(model, keep_torch_compile=False)  # on its device now
    ema = (ModelEmaV3(plain, decay=config.model_ema_decay, use_warmup=config.model_ema_warmup)
           if config.model_ema else None)
    # Everything a resumed run needs back, the weight average and the tag masker's step included. The
    # plain module (no DDP or torch.compile wrapper), so states load whether or not the run compiles.
    stateful: dict[str, Stateful] = {"model": plain, "optimizer": optimizer, "lr_scheduler": scheduler}
    if ema is not None:
        stateful["model_ema"] = ema
    tags = _tag_training(config, tokenizer, steps_per_epoch * config.no_epochs)
    if tags is not None:
        stateful["mask_scheduler"] = tags.masker
    state, resumed_from = _start(config, run, accelerator, stateful)
    log.info("run %s: %s on %s (%d classes, %s train / %s val / %s test images), %d parameters, %d process(es) "
             "on %s, mixed precision %s; %s lr %.2e, weight decay %s, smoothing %s, aa %s, scale %s, reprob %s, "
             "mixup %s, cutmix %s, EMA %s", run.name, config.model_name, config.dataset_name, data.num_classes,
             len(data.splits["train"]), len(data.splits["val"]), len(data.splits["test"]), count_parameters(plain),
             accelerator.num_processes, accelerator.device, accelerator.mixed_precision, config.opt,
             config.peak_lr, config.weight_decay, config.smoothing, config.aa, config.scale, config.reprob,
             config.mixup, config.cutmix, config.model_ema_decay if ema else "off")
    if config.tracker:
        accelerator.init_trackers(PROJECT, config=hparams(config),
                                  init_kwargs=init_kwargs(run.name, str(run.tracking_path)))

    if tokenizer is not None:
        log.info("tags: %s tokenizer, %d ids, %s", config.tokenizer, tokenizer.vocab_size, tokenizer.source)
        if tags is None:
            log.warning("multimodal without a mask_schedule: the model reads the true tags in training but "
                        "only masked tags at evaluation, so its test accuracy does not show what it learned "
                        "from tags; set mask_schedule to train it to predict them")
    stepper = Stepper(model, plain, optimizer, scheduler, TrainingLoss(config), accelerator,
                      _mixup(config, data.num_classes), ema, tags)
    meta = {"spec": spec, "class_names": data.class_names, "training": config.to_dict(), "vocab": data.vocab,
            "tokenizer": tokenizer}
    # Validation predicts with the weights that are kept (the average with model_ema), as 04 and 05 will.
    kept = ema.module if ema is not None else plain
    predictor = Predictor(kept, spec, data.class_names, device=accelerator.device,
                          mixed_precision=config.mixed_precision, tokenizer=tokenizer,
                          channels_last=config.channels_last)
    tag_eval = partial(_tag_metrics, data=data, tokenizer=tokenizer) if tags is not None else None
    # One bar each for training and validation, reset every epoch: a notebook keeps two outputs, not two per epoch.
    train_bar = progress_bar(total=steps_per_epoch, desc="training", leave=False, disable=not progress)
    val_bar = progress_bar(total=len(val_loader), desc="validating", leave=False, disable=not progress)
    for epoch in range(state.epoch + 1, config.no_epochs + 1):
        start = time.perf_counter()
        lr = scheduler.get_last_lr()[0]
        train_loader.set_epoch(epoch)
        stats = train_one_epoch(stepper, train_loader, epoch=epoch, step=state.step, log_freq=config.log_freq,
                                max_steps=max_steps, bar=train_bar)
        validated = time.perf_counter()
        val, val_preds = _evaluate(predictor, val_loader, accelerator, max_steps, "validating", val_bar)
        row = {"epoch": epoch, "lr": lr, **{k: v for k, v in stats.items() if k != "optimizer_steps"},
               "val_loss": val["loss"], "val_top1": val["top1"], "val_top5": val["top5"],
               "val_time_s": time.perf_counter() - validated}
        if tag_eval is not None:
            row |= {f"val_{k}": v for k, v in tag_eval(val_preds, "val").scores.items()}
        state.epoch, state.step = epoch, state.step + stats["optimizer_steps"]
        state.history.append(row)
        # With masked tags, best-loss checkpoints are kept during the cool-down only (the masking's final
        # state): earlier val losses come from a model trained on visible tags and are not comparable.
        loss_counts = tags is None or tags.masker.settled
        state.train_time_s += time.perf_counter() - start
        _save_epoch(config, run, accelerator, state, stateful, kept, val, meta, writer, loss_counts)
        state.train_time_s += row["save_time_s"]
        accelerator.log(row, step=epoch)
        log.info("epoch %d: train loss %.4f top-1 %.2f%% | val loss %.4f top-1 %.2f%% top-5 %.2f%% | %.1f s "
                 "(%.1f s waiting for data, %.1f s validating, %.1f s saving)", epoch, stats["train_loss"],
                 stats["train_top1"], val["loss"], val["top1"], val["top5"], time.perf_counter() - start,
                 stats["data_time_s"], row["val_time_s"], row["save_time_s"])
        for callback in callbacks:
            callback.on_epoch_end(pd.DataFrame(state.history))
    train_bar.close()
    val_bar.close()

    if accelerator.is_main_process:
        _save_last(run, state, kept, meta, writer)
    writer.flush()
    accelerator.wait_for_everyone()  # the main process has written best.safetensors
    best_ckpt = load_checkpoint(run.checkpoint("best"), accelerator.device)
    best = Predictor.from_checkpoint(best_ckpt, accelerator.device)
    open_set = calibrate_best(best, data, val_loader, accelerator, workers, config.batch_size, max_steps)
    if accelerator.is_main_process:
        store_calibration(best_ckpt, open_set, [run.checkpoint("best_loss"), run.checkpoint("last")])
    test, test_preds = _evaluate(best, test_loader, accelerator, max_steps, "testing", progress=progress)
    tag_test = tag_eval(test_preds, "test") if tag_eval is not None else None
    metrics = {
        "run_name": run.name, "test_top1": test["top1"], "test_top5": test["top5"], "test_loss": test["loss"],
        "test_samples": test["samples"], "best_val_top1": state.best_top1, "best_epoch": state.best_top1_epoch,
        "best_val_loss": state.best_loss, "best_loss_epoch": state.best_loss_epoch, "epochs": state.epoch,
        "optimizer_steps": state.step, "train_time_s": state.train_time_s, "num_parameters": count_parameters(plain),
        "num_classes": data.num_classes, "device": str(accelerator.device), "num_processes": accelerator.num_processes,
        "mixed_precision": accelerator.mixed_precision, "resumed_from": str(resumed_from) if resumed_from else None,
        "weights": "exponential moving average" if ema is not None else "trained", "cached_images": cache,
        "unknown_threshold": open_set.threshold,
        "skipped_files": data.problems,
        "initial_weights": str(loaded) if loaded else "",
    }
    if tag_test is not None:
        metrics |= {f"test_{k}": v for k, v in tag_test.scores.items()}
        metrics["test_tag_predictions"] = str(run.path / TEST_TAGS_FILE)
    figures = {}
    if accelerator.is_main_process:
        if tag_test is not None:
            atomic_write(run.path / TEST_TAGS_FILE, lambda tmp: tag_test.table.to_csv(tmp, index=False))
        figures = write_figures(run, config, pd.DataFrame(state.history), state.step)
        run.write_metrics(metrics)  # last: a run folder with metrics.json is a finished run
        clear_states(run)  # a finished run keeps its weights; resumable states only serve unfinished ones
    log.info("test top-1 %.2f%% top-5 %.2f%% (best val epoch %d)", test["top1"], test["top5"],
             state.best_top1_epoch)
    if tag_test is not None:
        log.info("test tags: micro F1 %.3f (precision %.3f, recall %.3f), macro F1 %.3f; all predictions in %s",
                 tag_test.scores["tag_micro_f1"], tag_test.scores["tag_micro_precision"],
                 tag_test.scores["tag_micro_recall"], tag_test.scores["tag_macro_f1"], TEST_TAGS_FILE)
    return TrainResult(run.path, pd.DataFrame(state.history), metrics, run.checkpoint("best"),
                       run.checkpoint("last"), figures)


def _mixup(config: TrainConfig, num_classes: int) -> Mixup | None:
    """timm's batch mixer for ``mixup``/``cutmix`` (None when both are 0); it applies the label smoothing too."""
    if not (config.mixup or config.cutmix):
        return None
    return Mixup(mixup_alpha=config.mixup, cutmix_alpha=config.cutmix, prob=config.mixup_prob,
                 switch_prob=config.mixup_switch_prob, label_smoothing=config.smoothing, num_classes=num_classes)


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
    state = restore_state(saved, stateful)
    rng = saved["rng"]
    if len(rng) == accelerator.num_processes:
        restore_rng(rng[accelerator.process_index])
    else:
        log.warning("the checkpoint was written by %d process(es), this run has %d: random streams (dropout) "
                    "start afresh, so the run is not bit-for-bit the uninterrupted one", len(rng),
                    accelerator.num_processes)
    if accelerator.is_main_process:
        run.write_history(state.history)
        run.write_params(config)
    log.info("resumed from %s: epoch %d done, optimizer step %d", path, state.epoch, state.step)
    return state, path


def _evaluate(predictor: Predictor, loader: DataLoader, accelerator: Accelerator, max_batches: int | None,
              desc: str, bar: Any = None, progress: bool = False) -> tuple[dict[str, float], Predictions]:
    """Loss, top-1 and top-5 over every sample of ``loader``, counted once across processes, and the predictions."""
    preds = gather_predictions(accelerator, predictor.predict_loader(loader, max_batches=max_batches, desc=desc,
                                                                     progress=progress, bar=bar))
    return summary(preds), preds


def _tag_training(config: TrainConfig, tokenizer: TagTokenizer | None, total_steps: int) -> TagTraining | None:
    """The masker of ``mask_schedule`` over ``total_steps`` optimizer steps (None without a schedule)."""
    if tokenizer is None or config.mask_schedule is None:
        return None
    steps = ScheduleSteps.from_fractions(total_steps, config.mask_wu_percent, config.mask_cd_percent)
    masker = TagMasker(config.mask_schedule, steps, mask_id=tokenizer.mask_id, vocab_size=tokenizer.vocab_size,
                       special_ids=tokenizer.special_ids, behavior=config.masking_behavior)
    return TagTraining(masker, tokenizer)


def _tag_metrics(preds: Predictions, split: str, *, data: DatasetSplits, tokenizer: TagTokenizer) -> TagResults:
    """Tag scores of the predictions on ``split`` against the records' tags."""
    records = data.splits[split]
    return tag_results(preds, [records[i] for i in preds.indices.tolist()], tokenizer, data.vocab)


def _save_epoch(config: TrainConfig, run: RunDir, accelerator: Accelerator, state: Progress,
                stateful: dict[str, Stateful], kept: nn.Module, val: dict[str, float], meta: dict[str, Any],
                writer: BackgroundWriter, loss_counts: bool = True) -> None:
    """Update the best metrics; write the history, the best weights and (when due) a resumable state.

    ``kept``: the weights checkpoints hold. ``loss_counts``: whether this epoch may become the best-loss one
    (False before a mask schedule's cool-down). The weight files and the state are written by ``writer``
    from copies taken now, while the next epoch trains; a best-loss epoch that is also the best-accuracy
    one links to the same file. Every write is atomic: a full disk stops the run with a CheckpointError
    and the files of earlier epochs stay as they were.
    """
    start, epoch = time.perf_counter(), state.epoch
    better_top1, better_loss = val["top1"] > state.best_top1, loss_counts and val["loss"] < state.best_loss
    if better_top1:
        state.best_top1, state.best_top1_epoch = val["top1"], epoch
    if better_loss:
        state.best_loss, state.best_loss_epoch = val["loss"], epoch
    due = epoch % config.save_checkpoint_freq == 0 or epoch == config.no_epochs
    # Captured last, so a resumed run continues the random streams from exactly here (one per process).
    rng = gather_object([capture_rng()]) if due else []
    row = state.history[-1]
    row["save_time_s"] = 0.0
    if not accelerator.is_main_process:
        return
    info = {"epoch": epoch, "val_top1": val["top1"], "val_loss": val["loss"]}
    if better_top1 or better_loss:
        weights = weights_of(kept)
        best, best_loss = run.checkpoint("best"), run.checkpoint("best_loss")
        if better_top1:
            writer.submit(partial(save_checkpoint, best, weights, **meta, info=info))
        if better_loss:
            writer.submit(partial(atomic_link, best, best_loss) if better_top1 else
                          partial(save_checkpoint, best_loss, weights, **meta, info=info))
    if due:
        objects = {name: detached_copy(obj.state_dict()) for name, obj in stateful.items()}
        writer.submit(partial(save_state, run.state(epoch), config, copy.deepcopy(state), objects, rng))
        writer.submit(partial(prune_states, run, config.keep_last))
    row["save_time_s"] = time.perf_counter() - start  # copying and queueing; the writing overlaps the next epoch
    run.write_history(state.history)


def _save_last(run: RunDir, state: Progress, kept: nn.Module, meta: dict[str, Any], writer: BackgroundWriter) -> None:
    """``last.safetensors``: the final weights; a link to the best (or best-loss) file when that is the same epoch."""
    last = run.checkpoint("last")
    for tag, epoch in (("best", state.best_top1_epoch), ("best_loss", state.best_loss_epoch)):
        if epoch == state.epoch:
            writer.submit(partial(atomic_link, run.checkpoint(tag), last))
            return
    info = {"epoch": state.epoch, "val_top1": state.history[-1]["val_top1"], "val_loss": state.history[-1]["val_loss"]}
    writer.submit(partial(save_checkpoint, last, weights_of(kept), **meta, info=info))
