"""The end of a run: last weights, the open-set calibration of the best checkpoint, the test split, metrics
and figures. ``metrics.json`` is written last: a run folder that has it is finished."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..atomic import atomic_write
from ..evaluation.multilabel import TAG_TABLE, TagReport, tag_report
from ..evaluation.tag_results import TEST_TAGS_FILE, TagResults
from ..models.checkpoint import load_checkpoint
from ..models.factory import count_parameters
from ..prediction.open_set import OpenSet
from ..prediction.predictions import Predictions
from ..prediction.predictor import Predictor
from ..prediction.tag_thresholds import thresholds_for
from .calibration import calibrate_best, store_calibration
from .figures import write_figures
from .loop import evaluate, tag_scorer
from .resume import clear_states
from .run_dir import TrainResult
from .saving import save_last
from .session import Session

log = logging.getLogger("animesion")


def finish(session: Session) -> TrainResult:
    """Write the last weights, calibrate and test the best checkpoint, write metrics and figures."""
    s, run = session, session.run
    if s.main:
        save_last(s)
    s.writer.flush()
    s.accelerator.wait_for_everyone()  # the main process has written best.safetensors
    best_ckpt = load_checkpoint(run.checkpoint("best"), s.accelerator.device)
    best = Predictor.from_checkpoint(best_ckpt, s.accelerator.device)
    calibration = calibrate_best(s, best)
    best.tag_thresholds = calibration.tag_thresholds
    if s.main:
        store_calibration(best_ckpt, calibration, [run.checkpoint("best_loss"), run.checkpoint("last")])
    test, test_preds = evaluate(best, s.loaders["test"], s.accelerator, s.max_steps, "testing",
                                progress=s.show_progress)
    scorer = tag_scorer(s)
    tag_test = scorer(test_preds, "test") if scorer is not None else None
    head_test = head_tag_results(best, test_preds)
    metrics = run_metrics(s, test, calibration.open_set, tag_test)
    figures = {}
    if head_test is not None:
        metrics |= {f"test_{k}": v for k, v in head_test.metrics.items()}
        metrics["test_tag_table"] = str(run.path / TAG_TABLE)
    if s.main:
        if tag_test is not None:
            atomic_write(run.path / TEST_TAGS_FILE, lambda tmp: tag_test.table.to_csv(tmp, index=False))
        if head_test is not None:
            atomic_write(run.path / TAG_TABLE, lambda tmp: head_test.table.to_csv(tmp, index=False))
        figures = write_figures(run, s.config, pd.DataFrame(s.progress.history), s.progress.step)
        run.write_metrics(metrics)  # last: a run folder with metrics.json is a finished run
        clear_states(run)  # a finished run keeps its weights; resumable states only serve unfinished ones
    log.info("test top-1 %.2f%% top-5 %.2f%% (best val epoch %d)", test["top1"], test["top5"],
             s.progress.best_top1_epoch)
    if head_test is not None:
        found = head_test.metrics
        log.info("test tags: mAP %.3f, micro F1 %.3f, macro F1 %.3f at the calibrated thresholds, F1 %.3f at "
                 "precision = recall; every tag in %s", found["tag_map"], found["tag_micro_f1"],
                 found["tag_macro_f1"], found["tag_f1_at_pr"], TAG_TABLE)
    if tag_test is not None:
        log.info("test tags: micro F1 %.3f (precision %.3f, recall %.3f), macro F1 %.3f; all predictions in %s",
                 tag_test.scores["tag_micro_f1"], tag_test.scores["tag_micro_precision"],
                 tag_test.scores["tag_micro_recall"], tag_test.scores["tag_macro_f1"], TEST_TAGS_FILE)
    return TrainResult(run.path, pd.DataFrame(s.progress.history), metrics, run.checkpoint("best"),
                       run.checkpoint("last"), figures)


def head_tag_results(predictor: Predictor, preds: Predictions) -> TagReport | None:
    """The tag head's results at its calibrated thresholds (None without a tag head, or without tags to compare)."""
    if preds.tag_targets is None:
        return None
    limits = thresholds_for(preds.tag_scores, predictor.tag_set, predictor.tag_thresholds, "calibrated")[0]
    return tag_report(preds.tag_scores, preds.tag_targets, predictor.tag_set, limits)


def run_metrics(session: Session, test: dict[str, float], open_set: OpenSet,
                 tag_test: TagResults | None) -> dict[str, Any]:
    """What ``metrics.json`` holds: test results, the best epochs, the run's size, time and set-up."""
    s, p, accelerator = session, session.progress, session.accelerator
    metrics = {
        "run_name": s.run.name, "test_top1": test["top1"], "test_top5": test["top5"], "test_loss": test["loss"],
        "test_samples": test["samples"], "best_val_top1": p.best_top1, "best_epoch": p.best_top1_epoch,
        "best_val_loss": p.best_loss, "best_loss_epoch": p.best_loss_epoch, "epochs": p.epoch,
        "optimizer_steps": p.step, "train_time_s": p.train_time_s,
        "num_parameters": count_parameters(s.networks.module), "num_classes": s.data.num_classes,
        "device": str(accelerator.device), "num_processes": accelerator.num_processes,
        "mixed_precision": accelerator.mixed_precision,
        "resumed_from": str(s.resumed_from) if s.resumed_from else None,
        "weights": "exponential moving average" if s.networks.ema is not None else "trained",
        "cached_images": s.cached, "unknown_threshold": open_set.threshold, "skipped_files": s.data.problems,
        "initial_weights": str(s.initial_weights) if s.initial_weights else "",
    }
    if tag_test is not None:
        metrics |= {f"test_{k}": v for k, v in tag_test.scores.items()}
        metrics["test_tag_predictions"] = str(s.run.path / TEST_TAGS_FILE)
    return metrics


__all__ = ["finish", "head_tag_results", "run_metrics"]
