"""``evaluate_checkpoint(config)`` and ``save_report``: everything ``04_evaluate`` shows and saves."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image
from torch import nn

from ..atomic import atomic_write
from ..config.evaluate import EvaluateConfig
from ..data.dataset import DatasetSplits, ImageDataset, load_dataset
from ..errors import DataError
from ..models.checkpoint import Checkpoint, load_checkpoint
from ..paths import resolve_path
from ..performance import resolve_workers
from ..plots.evaluation import plot_confused_pairs, plot_per_class
from ..plots.images import prediction_gallery
from ..plots.open_set import plot_reliability, plot_score_histograms
from ..plots.save import save_figure
from ..plots.tags import plot_precision_recall
from ..prediction.confidence import reliability
from ..prediction.files import list_files, predict_files
from ..prediction.predictions import Predictions
from ..prediction.predictor import Predictor
from ..prediction.tag_thresholds import thresholds_for
from ..runs import find_checkpoint
from .metrics import confused_pairs, per_class_accuracy, summary
from .multilabel import TAG_TABLE, TagReport, tag_report
from .open_set import OpenSetReport, auroc, recall_at_k


@dataclass
class EvaluationReport:
    """A checkpoint's results on one split: summary, per-class table, confusions and raw predictions."""

    checkpoint: Checkpoint
    predictor: Predictor
    data: DatasetSplits
    split: str
    dataset: ImageDataset
    predictions: Predictions
    summary: dict[str, float]
    per_class: pd.DataFrame
    confused: pd.DataFrame
    out_dir: Path
    open_set: OpenSetReport | None = None  # None for checkpoints written without an open-set calibration
    tags: TagReport | None = None  # the tag head's results (None without a tag head or a tagged split)

    @property
    def tags_note(self) -> str:
        """Why there are no tag results, in one sentence ("" when there are)."""
        if self.tags is not None:
            return ""
        if not self.predictor.has_tag_head:
            return ("This checkpoint has no tag head (it was trained without tag_head=True, or before tag heads "
                    "existed), so it gives no tag scores.")
        return f"The {self.split} split has no tags to compare the tag head's scores with."


def evaluate_checkpoint(config: EvaluateConfig, progress: bool = True) -> EvaluationReport:
    """Load the checkpoint, evaluate it on ``config.split`` and compute every table of the report.

    The split is read exactly as training's validation reads it: the predictor's eval transform and
    reduced-size JPEG decoding, so ``metrics.json`` and this report see the same pixels.
    """
    ckpt = load_checkpoint(find_checkpoint(config.checkpoint_path, config.results_dir))
    predictor = Predictor.from_checkpoint(ckpt)
    data = load_dataset(config.dataset_name or ckpt.dataset_name, config.dataset_path or ckpt.dataset_path,
                        with_tags=None if predictor.has_tag_head else False, seed=ckpt.seed, progress=progress)
    if data.class_names != ckpt.class_names:
        raise DataError(f"The dataset's {data.num_classes} classes are not the {len(ckpt.class_names)} classes "
                        "the checkpoint was trained on; evaluate on the same dataset.")
    workers = resolve_workers(config.no_cpu_workers, predictor.device.type)
    loader = predictor.loader(data.splits[config.split], data.image_root, config.batch_size, workers,
                              with_tags=predictor.has_tag_head and data.tagged)
    preds = predictor.predict_loader(loader, k=5, desc=f"evaluating {config.split}", progress=progress,
                                     embeddings=True)
    out_dir = ckpt.path.parent / f"evaluation_{config.split}"
    report = EvaluationReport(ckpt, predictor, data, config.split, loader.dataset, preds, summary(preds),
                              per_class_accuracy(preds, ckpt.class_names), confused_pairs(preds, ckpt.class_names),
                              out_dir)
    if predictor.open_set is not None and len(preds.labels):
        report.open_set = _open_set_report(config, report, workers, progress)
    if preds.tag_targets is not None and len(preds.labels):
        limits = thresholds_for(preds.tag_scores, predictor.tag_set, predictor.tag_thresholds, "calibrated")[0]
        report.tags = tag_report(preds.tag_scores, preds.tag_targets, predictor.tag_set, limits)
        report.summary |= report.tags.metrics
    return report


def _open_set_report(config: EvaluateConfig, report: EvaluationReport, workers: int, progress: bool) -> OpenSetReport:
    """Retrieval against the train split and, with ``unknown_path``, known against unknown characters."""
    open_set, preds, predictor = report.predictor.open_set, report.predictions, report.predictor
    known, named = open_set.scores(preds.embeddings)[0].max(dim=-1)
    recall = {}
    if config.retrieval and config.split != "train":  # the train split against itself would find itself
        train = predictor.loader(report.data.splits["train"], report.data.image_root, config.batch_size, workers)
        reference = predictor.predict_loader(train, desc="embedding train", progress=progress, embeddings=True)
        recall = recall_at_k(open_set.project(preds.embeddings), preds.labels,
                             open_set.project(reference.embeddings), reference.labels)
    result = OpenSetReport(recall, open_set.threshold, known, float((known < open_set.threshold).float().mean()))
    if open_set.confidence is not None:  # answers among the characters, as 05 gives them without a gallery
        result.reliability = reliability(open_set.confidence(known - open_set.threshold), named == preds.labels)
    if config.unknown_path:
        others = predict_files(predictor, list_files(resolve_path(config.unknown_path)), config.batch_size, top_k=1,
                               progress=progress, workers=workers)
        if len(others.table):
            unknown = open_set.scores(others.embeddings)[0].max(dim=-1).values
            result.unknown_scores, result.unknown_files = unknown, len(unknown)
            result.unknown_called_unknown = float((unknown < open_set.threshold).float().mean())
            result.auroc = auroc(known, unknown)
    return result


@dataclass
class Mistake:
    """One misclassified sample: its picture, its path under the image root, its true class and the top-5."""

    image: Image.Image
    path: str
    true: str
    top_names: list[str]
    top_probs: list[float]

    @property
    def caption(self) -> str:
        """What a gallery writes above the top-5: ``true: <name>``."""
        return f"true: {self.true}"


def mistake_positions(report: EvaluationReport) -> list[int]:
    """Positions in ``report.predictions`` of the misclassified samples, in dataset order."""
    return (~report.predictions.correct1).nonzero().flatten().tolist()


def mistake(report: EvaluationReport, position: int) -> Mistake:
    """The misclassified sample at ``position`` of the predictions, its picture read now."""
    preds, names = report.predictions, report.checkpoint.class_names
    record = report.dataset.records[int(preds.indices[position])]
    return Mistake(report.predictor.load(report.dataset.image_root / record.path), record.path,
                   names[int(preds.labels[position])], [names[j] for j in preds.topk_idx[position].tolist()],
                   preds.topk_prob[position].tolist())


def misclassified(report: EvaluationReport, limit: int) -> dict[str, list]:
    """The first ``limit`` misclassified samples: images, true names, captions, top-5 names and probabilities."""
    found = [mistake(report, i) for i in mistake_positions(report)[:limit]]
    return {"images": [m.image for m in found], "true": [m.true for m in found],
            "captions": [m.caption for m in found], "top_names": [m.top_names for m in found],
            "top_probs": [m.top_probs for m in found], "paths": [m.path for m in found]}


def report_figures(report: EvaluationReport, max_gallery: int = 12) -> dict[str, Figure]:
    """The report's figures by file stem: accuracy per class, confused pairs, and (with ``max_gallery``) mistakes."""
    figures = {"per_class_accuracy": plot_per_class(report.per_class),
               "confused_pairs": plot_confused_pairs(report.confused)}
    if max_gallery:
        wrong = misclassified(report, max_gallery)
        figures["misclassified"] = prediction_gallery(wrong["images"], wrong["top_names"], wrong["top_probs"],
                                                      wrong["captions"])
    if report.open_set is not None:
        figures["open_set_scores"] = open_set_figure(report.open_set)
        if report.open_set.reliability is not None:
            figures["reliability"] = plot_reliability(report.open_set.reliability)
    if report.tags is not None:
        figures["tag_precision_recall"] = tag_pr_figure(report.tags)
    return figures


def tag_pr_figure(tags: TagReport) -> Figure:
    """The pooled precision-recall curve of the tag head, with its calibrated and P = R operating points."""
    return plot_precision_recall(tags.precision, tags.recall, tags.points)


def open_set_figure(open_set: OpenSetReport) -> Figure:
    """The best scores of the split's (known) pictures and of ``unknown_path``'s, with the threshold."""
    unknown = open_set.unknown_scores.numpy() if open_set.unknown_scores is not None else None
    return plot_score_histograms(open_set.known_scores.numpy(), unknown, open_set.threshold)


def save_report(report: EvaluationReport, max_gallery: int = 12) -> Path:
    """Write ``summary.json``, ``per_class_accuracy.csv``, ``confused_pairs.csv``, ``open_set.json`` (with a
    calibrated checkpoint), ``tag_table.csv`` (with a tag head) and the figures as PNG."""
    out = report.out_dir
    text = json.dumps({"split": report.split, **report.summary}, indent=2)
    atomic_write(out / "summary.json", lambda tmp: tmp.write_text(text))
    atomic_write(out / "per_class_accuracy.csv", lambda tmp: report.per_class.to_csv(tmp, index=False))
    atomic_write(out / "confused_pairs.csv", lambda tmp: report.confused.to_csv(tmp, index=False))
    if report.open_set is not None:
        figures_text = json.dumps(report.open_set.summary(), indent=2)
        atomic_write(out / "open_set.json", lambda tmp: tmp.write_text(figures_text))
    if report.tags is not None:
        atomic_write(out / TAG_TABLE, lambda tmp: report.tags.table.to_csv(tmp, index=False))
    for name, fig in report_figures(report, max_gallery).items():
        save_figure(fig, out, f"{name}.png")
        plt.close(fig)
    return out


def model_summary(model: nn.Module, depth: int = 2) -> pd.DataFrame:
    """Layers down to ``depth`` levels with their type and parameter counts (the ``vis_arch`` table)."""
    rows = []
    for name, module in model.named_modules():
        level = name.count(".") + 1 if name else 0
        if 0 < level <= depth:
            rows.append({"layer": name, "type": type(module).__name__,
                         "parameters": sum(p.numel() for p in module.parameters())})
    total = sum(p.numel() for p in model.parameters())
    rows.append({"layer": "TOTAL", "type": type(model).__name__, "parameters": total})
    return pd.DataFrame(rows)
