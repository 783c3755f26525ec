"""Evaluation metrics are exact and vectorised; the report needs only a checkpoint."""

from __future__ import annotations

import pytest
import torch

from animesion.config.evaluate import EvaluateConfig
from animesion.errors import CheckpointError
from animesion.evaluation.metrics import confused_pairs, per_class_accuracy, summary
from animesion.evaluation.report import evaluate_checkpoint, misclassified, save_report
from animesion.prediction.predictions import Predictions


def _preds(labels, top1):
    labels, top1 = torch.tensor(labels), torch.tensor(top1)
    topk = torch.stack([top1, (top1 + 1) % 3, (top1 + 2) % 3], dim=1)
    return Predictions(labels, topk, torch.full(topk.shape, 1 / 3), torch.arange(len(labels)),
                       torch.ones(len(labels)))


def test_metrics_by_hand():
    preds = _preds([0, 0, 1, 1, 2], [0, 1, 1, 2, 2])
    s = summary(preds)
    assert s["top1"] == pytest.approx(60.0) and s["top5"] == 100.0 and s["samples"] == 5
    table = per_class_accuracy(preds, ["a", "b", "c", "d"])
    assert table["accuracy"].tolist()[:3] == [50.0, 50.0, 100.0]
    assert table["samples"].tolist() == [2, 2, 1, 0] and table["accuracy"].isna().tolist()[3]
    pairs = confused_pairs(preds, ["a", "b", "c", "d"])
    assert sorted(zip(pairs["true"], pairs["predicted"])) == [("a", "b"), ("b", "c")]


def test_report_from_checkpoint_only(tiny_run, tmp_path):
    config = EvaluateConfig(checkpoint_path=str(tiny_run.best_checkpoint), split="val", no_cpu_workers=0)
    report = evaluate_checkpoint(config, progress=False)
    assert report.summary["samples"] == 12
    assert report.per_class["samples"].sum() == 12
    out = save_report(report)
    assert (out / "per_class_accuracy.csv").read_text().startswith("class_id,class_name,samples,accuracy")
    wrong = misclassified(report, 3)
    assert len(wrong["images"]) == min(3, int((~report.predictions.correct1).sum()))


def test_missing_checkpoint_is_one_sentence(tmp_path):
    with pytest.raises(CheckpointError, match="run 03_train first or set checkpoint_path"):
        evaluate_checkpoint(EvaluateConfig(results_dir=str(tmp_path)), progress=False)
