"""After training: measure the best checkpoint's embedding space, so 05 can enrol new characters and say
"unknown" (see :mod:`animesion.prediction.open_set`), calibrate its tag head's thresholds on val (see
:mod:`animesion.prediction.tag_thresholds`), and store both in the checkpoint."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ..atomic import atomic_link
from ..models.checkpoint import Checkpoint, save_checkpoint, weights_of
from ..prediction.colour import ColourFeature
from ..prediction.open_set import OpenSet, calibrate
from ..prediction.predictor import Predictor
from ..prediction.tag_thresholds import TagThresholds, calibrate_thresholds
from .distributed import gather_predictions
from .session import Session

log = logging.getLogger("animesion")


@dataclass
class Calibration:
    """What training measures on the best checkpoint: the open set, and the tag head's thresholds (None
    without a tag head)."""

    open_set: OpenSet
    tag_thresholds: TagThresholds | None = None


def calibrate_best(session: Session, predictor: Predictor) -> Calibration:
    """The open-set calibration of the predictor's model: prototypes from the train split (read without
    augmentation, as inference reads pictures) and the threshold and temperature from the val split; with a
    tag head, the thresholds of its tags on the val split."""
    s = session
    # the pictures' identity features carry the colour histogram the calibration joins to the embedding
    predictor.colour = ColourFeature(s.config.colour_weight) if s.config.colour_weight > 0 else None
    train = s.accelerator.prepare(predictor.loader(s.data.splits["train"], s.data.image_root, s.config.batch_size,
                                                   s.workers))
    embedded = {}
    for split, loader in (("train", train), ("val", s.loaders["val"])):
        preds = predictor.predict_loader(loader, max_batches=s.max_steps, progress=False, embeddings=True)
        embedded[split] = gather_predictions(s.accelerator, preds)
    open_set = calibrate(embedded["train"].embeddings, embedded["train"].labels, embedded["val"].embeddings,
                         embedded["val"].labels, s.data.class_names, predictor.colour, s.config.false_unknown)
    log.info("open set: threshold %.3f (%.0f%% of the val pictures' scores to their own prototype below it) keeps "
             "%.0f%% of the %d val pictures (temperature %.3f); prototypes from %d train pictures", open_set.threshold,
             100 * open_set.false_unknown, 100 * open_set.coverage, len(embedded["val"].labels), open_set.temperature,
             len(embedded["train"].labels))
    val = embedded["val"]
    if val.tag_targets is None:
        return Calibration(open_set)
    thresholds = calibrate_thresholds(val.tag_scores, val.tag_targets, predictor.tag_set)
    log.info("tag thresholds: %s at precision = recall on val; %d tags, their own thresholds %.2f–%.2f",
             ", ".join(f"{k} {v:.3f}" for k, v in thresholds.per_category.items()), len(thresholds.per_tag),
             float(thresholds.per_tag.min()), float(thresholds.per_tag.max()))
    return Calibration(open_set, thresholds)


def store_calibration(ckpt: Checkpoint, calibration: Calibration, linked: list[Path]) -> None:
    """Rewrite ``ckpt``'s file with its calibration; the files in ``linked`` that were the same file as it
    (best-loss and last weights of the same epoch) are linked to the new one again."""
    path, open_set = ckpt.path, calibration.open_set
    same = [other for other in linked if other.is_file() and os.path.samefile(other, path)]
    tag_head = ckpt.tag_head
    if calibration.tag_thresholds is not None:
        tag_head = {**(tag_head or {}), "thresholds": calibration.tag_thresholds.to_meta()}
    save_checkpoint(path, weights_of(ckpt.model), ckpt.spec, ckpt.class_names, ckpt.training, ckpt.vocab,
                    ckpt.info, ckpt.tokenizer, calibration={"tensors": open_set.to_tensors(),
                                                            "meta": open_set.to_meta()}, tag_head=tag_head)
    for other in same:
        atomic_link(path, other)


__all__ = ["Calibration", "calibrate_best", "store_calibration"]
