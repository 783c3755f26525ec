"""``evaluate_checkpoint(config)``: everything ``04_evaluate`` shows, computed in one call."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from torch import nn

from ..config.evaluate import EvaluateConfig
from ..data.dataset import DatasetSplits, ImageDataset, load_dataset, make_loader
from ..data.images import load_rgb
from ..data.transforms import build_transform
from ..errors import DataError
from ..performance import prepare_model, resolve_workers
from ..runs import find_checkpoint
from ..training.checkpoint import Checkpoint, load_checkpoint
from ..training.trainer import pick_device
from .metrics import confused_pairs, per_class_accuracy, summary
from .predict import Predictions, predict


@dataclass
class EvaluationReport:
    """A checkpoint's results on one split: summary, per-class table, confusions and raw predictions."""

    checkpoint: Checkpoint
    data: DatasetSplits
    split: str
    dataset: ImageDataset
    predictions: Predictions
    summary: dict[str, float]
    per_class: pd.DataFrame
    confused: pd.DataFrame
    out_dir: Path


def evaluate_checkpoint(config: EvaluateConfig, progress: bool = True) -> EvaluationReport:
    """Load the checkpoint, evaluate it on ``config.split`` and compute every table of the report."""
    device = pick_device()
    ckpt = load_checkpoint(find_checkpoint(config.checkpoint_path, config.results_dir), device)
    data = load_dataset(config.dataset_name or ckpt.config.dataset_name,
                        config.dataset_path or ckpt.config.dataset_path, seed=ckpt.config.seed, progress=progress)
    if data.class_names != ckpt.class_names:
        raise DataError(f"The dataset's {data.num_classes} classes are not the {len(ckpt.class_names)} classes "
                        "the checkpoint was trained on; evaluate on the same dataset.")
    dataset = ImageDataset(data.splits[config.split], data.image_root, build_transform(ckpt.config.image_size, False))
    loader = make_loader(dataset, config.batch_size, train=False,
                         workers=resolve_workers(config.no_cpu_workers, device.type))
    prepare_model(ckpt.model, channels_last=ckpt.config.channels_last)  # in place: the same predictions, sooner
    preds = predict(ckpt.model, loader, device, k=5, desc=f"evaluating {config.split}", progress=progress)
    out_dir = ckpt.path.parent / f"evaluation_{config.split}"
    return EvaluationReport(ckpt, data, config.split, dataset, preds, summary(preds),
                            per_class_accuracy(preds, ckpt.class_names), confused_pairs(preds, ckpt.class_names),
                            out_dir)


def save_report(report: EvaluationReport) -> Path:
    """Write ``summary.json``, ``per_class_accuracy.csv`` and ``confused_pairs.csv``; return the folder."""
    report.out_dir.mkdir(parents=True, exist_ok=True)
    (report.out_dir / "summary.json").write_text(json.dumps({"split": report.split, **report.summary}, indent=2))
    report.per_class.to_csv(report.out_dir / "per_class_accuracy.csv", index=False)
    report.confused.to_csv(report.out_dir / "confused_pairs.csv", index=False)
    return report.out_dir


def misclassified(report: EvaluationReport, limit: int) -> dict[str, list]:
    """The first ``limit`` misclassified samples: images, true names, captions, top-5 names and probabilities."""
    names = report.checkpoint.class_names
    wrong = (~report.predictions.correct1).nonzero().flatten()[:limit]
    records = report.dataset.records
    out: dict[str, list] = {"images": [], "true": [], "captions": [], "top_names": [], "top_probs": [], "paths": []}
    for i in wrong.tolist():
        record = records[int(report.predictions.indices[i])]
        out["images"].append(load_rgb(report.dataset.image_root / record.path))
        out["paths"].append(record.path)
        out["true"].append(names[int(report.predictions.labels[i])])
        out["captions"].append(f"true: {out['true'][-1]}")
        out["top_names"].append([names[j] for j in report.predictions.topk_idx[i].tolist()])
        out["top_probs"].append(report.predictions.topk_prob[i].tolist())
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
