"""``make bench-tagging``: the multi-label tag head against the vision+tags ViT, on the same data and epochs.

    python -m benchmarks.tagging                          # the synthetic set → benchmarks/tagging.md
    python -m benchmarks.tagging --data DAFRE_FACES_ROOT  # a DAF:re-layout dataset with {split}_tags.csv
    python -m benchmarks.tagging --quick                  # a smoke run: 2 epochs, 32 pictures captioned

Two models train on the same dataset for the same epochs: resnet18 with the tag head (``tag_head``, 03's
defaults at 64 px) and the vision+tags ViT Ti/16 of ``parameters/quickstart_vilt.yaml`` (every tag masked, so
it learns to fill them from the picture). The table gives test top-1, the tag metrics of each (the ViT fills
tag tokens without scores, so it has no mAP and no F1 at P = R) and the training time. Then captioning speed:
the tag head's checkpoint captions 256 test pictures (repeated when the split is smaller) through
``predict_files``, as ``python -m animesion.tag`` does, at batch 1 and batched, in PyTorch fp32 and through
ONNX Runtime.

New characters: a tagger is only worth using on characters it never trained on, so the tag head also trains
on the first half of the characters (a seeded shuffle) and is measured on every picture of the other half:
tags it can only give by seeing them, not by remembering each character's usual tags.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from animesion.config.train import TrainConfig
from animesion.data.dataset import load_dataset
from animesion.data.layout_writer import write_daf_labels
from animesion.evaluation.multilabel import tag_report
from animesion.models.checkpoint import load_checkpoint
from animesion.paths import project_root
from animesion.prediction.fast import make_fast
from animesion.prediction.files import predict_files
from animesion.prediction.predictor import Predictor
from animesion.prediction.tag_thresholds import thresholds_for
from animesion.strict import load_yaml
from animesion.training import train
from benchmarks.jpegs import work_dir
from benchmarks.report import Section, Table, Target, load_average, markdown_table, ratio, write_report

RESULTS = Path(__file__).resolve().parent / "tagging.md"
VILT = project_root() / "parameters" / "quickstart_vilt.yaml"
CAPTIONED = 256  # pictures captioned in the speed test


def models(args: argparse.Namespace) -> dict[str, dict]:
    """The two runs' parameters: the tag head on resnet18, and the quickstart vision+tags ViT."""
    vilt = {k: v for k, v in load_yaml(VILT).items() if k != "run_name"}
    return {"resnet18 + tag head": {"model_name": "resnet18", "image_size": 64, "tag_head": True},
            "Ti_16 vision+tags (masked tags)": vilt}


def run(name: str, params: dict, args: argparse.Namespace) -> dict:
    """Train one model on the benchmark's data; its metrics."""
    config = TrainConfig.from_dict({**params, "dataset_name": args.dataset_name, "dataset_path": str(args.dataset_path),
                                    "no_epochs": args.epochs, "log_freq": 1000,
                                    "results_dir": str(work_dir() / "tagging" / "runs"),
                                    "run_name": name.split()[0] + ("_tags" if params.get("tag_head") else "_vilt")})
    print(f"training {name}", flush=True)
    return train(config, progress=sys.stderr.isatty()).metrics


def new_characters(args: argparse.Namespace) -> tuple[dict, dict[str, float]]:
    """Train the tag head on half the characters; its test metrics (seen characters) and its tag metrics on
    every picture of the other half (characters it never saw), at its calibrated thresholds."""
    data = load_dataset(args.dataset_name, args.dataset_path, with_tags=True, progress=False)
    order = random.Random(0).sample(range(data.num_classes), data.num_classes)
    seen, unseen = sorted(order[: data.num_classes // 2]), sorted(order[data.num_classes // 2:])
    root = work_dir() / "tagging" / "half_characters"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "faces").symlink_to(data.image_root.resolve(), target_is_directory=True)
    new_id = {old: new for new, old in enumerate(seen)}
    splits = {split: [replace(r, class_id=new_id[r.class_id]) for r in records if r.class_id in new_id]
              for split, records in data.splits.items()}
    write_daf_labels(root / "labels", splits, [data.class_names[i] for i in seen])
    config = TrainConfig.from_dict({**models(args)["resnet18 + tag head"], "dataset_name": "danbooruFaces",
                                    "dataset_path": str(root), "no_epochs": args.epochs, "log_freq": 1000,
                                    "results_dir": str(work_dir() / "tagging" / "runs"), "run_name": "half_tags"})
    print("training resnet18 + tag head on half the characters", flush=True)
    result = train(config, progress=sys.stderr.isatty())
    predictor = Predictor.from_checkpoint(load_checkpoint(result.best_checkpoint), device="cpu")
    others = [replace(r, class_id=0) for records in data.splits.values() for r in records if r.class_id in unseen]
    preds = predictor.predict_loader(predictor.loader(others, data.image_root, 64, with_tags=True), progress=False)
    limits = thresholds_for(preds.tag_scores, predictor.tag_set, predictor.tag_thresholds, "calibrated")[0]
    found = tag_report(preds.tag_scores, preds.tag_targets, predictor.tag_set, limits).metrics
    return result.metrics, {**found, "pictures": len(others), "characters": len(unseen)}


def captioning_speed(checkpoint: Path, args: argparse.Namespace) -> dict[str, float]:
    """Pictures per second captioning ``CAPTIONED`` test pictures, batch 1 and batched, fp32 and ONNX."""
    predictor = Predictor.from_checkpoint(load_checkpoint(checkpoint), device="cpu")
    data = load_dataset(args.dataset_name, args.dataset_path, progress=False)
    tests = [data.image_root / r.path for r in data.splits["test"]]
    files = (tests * (args.captioned // max(len(tests), 1) + 1))[: args.captioned]
    speeds = {}
    for path_name in ("none", "onnx"):
        fast = make_fast(predictor, path_name)
        predict_files(fast, files[:8], batch_size=8, tags=True, progress=False)  # warm-up (and the export)
        for batch in (1, args.batch_size):
            start = time.perf_counter()
            predict_files(fast, files, batch_size=batch, tags=True, progress=False)
            speeds[f"{'fp32' if path_name == 'none' else 'ONNX'}, batch {batch}"] = len(files) / (
                time.perf_counter() - start)
    return speeds


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a DAF:re-layout dataset root with tags (default: the synthetic set)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32, help="the batched captioning's batch size")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 32 pictures captioned (a smoke run)")
    parser.add_argument("--output", help=f"Markdown report (default {RESULTS.name} for a full run)")
    args = parser.parse_args(argv)
    args.dataset_name, args.dataset_path = ("danbooruFaces", Path(args.data)) if args.data else \
        ("synthetic", project_root() / "data" / "synthetic")
    if args.data and not (args.dataset_path / "labels" / "train_tags.csv").is_file():
        parser.error(f"{args.data} has no labels/train_tags.csv: give a DAF:re-layout dataset with tags")
    args.captioned = 32 if args.quick else CAPTIONED
    if args.quick:
        args.epochs = 2
    start, load_at_start = time.perf_counter(), load_average()
    found = {name: run(name, params, args) for name, params in models(args).items()}
    head, vilt = found["resnet18 + tag head"], found["Ti_16 vision+tags (masked tags)"]
    source = args.dataset_path.name
    table = Table(f"Tags on {source}, {args.epochs} epochs", ["model", "test top-1", "tag mAP", "micro F1",
                                                              "macro F1", "F1 at P = R", "train time s"])
    for name, m in found.items():
        table.rows.append([name, f"{m['test_top1']:.1f}%", f"{m['test_tag_map']:.3f}" if "test_tag_map" in m else "–",
                           f"{m['test_tag_micro_f1']:.3f}", f"{m['test_tag_macro_f1']:.3f}",
                           f"{m['test_tag_f1_at_pr']:.3f}" if "test_tag_f1_at_pr" in m else "–",
                           f"{m['train_time_s']:.0f}"])
    table.notes += ["The tag head's F1 is at the thresholds calibrated on val (per tag, shrunk towards the "
                    "category's for rare tags); the ViT's at the tags it fills in. mAP: mean over tags with a "
                    "positive of the average precision of their scores; F1 at P = R: micro F1 at the one threshold "
                    "where pooled precision equals recall (the WD taggers' headline figure).",
                    "resnet18 at 64 px with 03's defaults; the ViT with parameters/quickstart_vilt.yaml (48 px)."]
    print(markdown_table(table), flush=True)
    speeds = captioning_speed(Path(head["test_tag_table"]).parent / "best.safetensors", args)
    speed = Table(f"Captioning {args.captioned} pictures on the CPU (resnet18 + tag head, predict_files as "
                  "python -m animesion.tag runs it)", ["path", "pictures/s", "vs fp32 batch 1"])
    base = speeds["fp32, batch 1"]
    speed.rows = [[name, f"{value:.0f}", ratio(value, base)] for name, value in speeds.items()]
    print(markdown_table(speed), flush=True)
    batched = speeds[f"fp32, batch {args.batch_size}"] / base
    seen, new = new_characters(args)
    novel = Table(f"Tags of characters the tag head never saw ({source}: trained on half the characters)",
                  ["pictures", "tag mAP", "micro F1", "macro F1", "F1 at P = R"])
    novel.rows = [["test split of the trained characters",
                   *(f"{seen[f'test_{k}']:.3f}" for k in ("tag_map", "tag_micro_f1", "tag_macro_f1", "tag_f1_at_pr"))],
                  [f"all {new['pictures']} pictures of the other {new['characters']} characters",
                   *(f"{new[k]:.3f}" for k in ("tag_map", "tag_micro_f1", "tag_macro_f1", "tag_f1_at_pr"))]]
    novel.notes.append("The same recipe and epochs as above; thresholds calibrated on the trained characters' val "
                       "split. A tagger that memorised each character's tags falls far on the second row.")
    print(markdown_table(novel), flush=True)
    section = Section("Tagging", [table, speed, novel], [
        Target("tag head: test tag mAP", f"{head['test_tag_map']:.3f}", "≥ 0.90", head["test_tag_map"] >= 0.90),
        Target("tag head micro F1 above the vision+tags ViT's", f"{head['test_tag_micro_f1']:.3f} vs "
               f"{vilt['test_tag_micro_f1']:.3f}", "higher", head["test_tag_micro_f1"] > vilt["test_tag_micro_f1"]),
        Target(f"captioning batched ({args.batch_size}) vs batch 1, fp32", f"{batched:.1f}×", "≥ 2×", batched >= 2),
        Target("new characters: tag mAP against the trained characters'", f"{new['tag_map']:.3f} vs "
               f"{seen['test_tag_map']:.3f}", "≥ 0.85×", new["tag_map"] >= 0.85 * seen["test_tag_map"])])
    output = Path(args.output) if args.output else RESULTS if not args.quick else work_dir() / "tagging.md"
    return write_report(output, [section], "benchmarks.tagging", argv, start, load_at_start)


if __name__ == "__main__":
    main()
