"""``make bench-recipes``: the original and the modern training recipe, trained on real faces without ImageNet
(the original from random weights; the modern recipe from the package's backbone where it has one: resnet18).

    python -m benchmarks.recipes                       # $ANIMESION_BENCH_DATA → benchmarks/recipes.md
    python -m benchmarks.recipes --data my_faces/ --epochs 15 --models resnet18 --no-ablation
    python -m benchmarks.recipes --quick               # a smoke run: 2 epochs, shallow only

The folder tree (one subfolder per character) is made into a dataset by ``02_make_dataset`` with its
defaults, then every model trains with both recipe files (``parameters/train_recipe_*.yaml``) at the same
size, batch and epochs, through ``python -m animesion.train``'s own code (``train``). The table gives test
top-1 (the best-validation checkpoint on the test split), training time (every epoch: steps, validation,
checkpoints) and training images per second; the ablation takes one knob of the modern recipe back to the
original's value at a time, on resnet18.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from animesion.config.make_dataset import MakeDatasetConfig
from animesion.config.train import RECIPE, TrainConfig
from animesion.make_dataset import make_dataset
from animesion.paths import project_root
from animesion.strict import load_yaml
from animesion.training import train
from benchmarks.jpegs import DATA_HELP, default_data_dir, work_dir
from benchmarks.report import Section, Table, Target, load_average, markdown_table, write_report

RECIPES = {name: project_root() / "parameters" / f"train_recipe_{name}.yaml" for name in ("original", "modern")}
RESULTS = Path(__file__).resolve().parent / "recipes.md"
# Knobs the ablation turns back together: the optimizer's learning rate belongs to the optimizer.
GROUPS = {"learning_rate": "opt", "momentum": "opt", "lr_scheduler": "opt", "warmup_steps": "opt",
          "mixup_prob": "mixup", "mixup_switch_prob": "mixup", "cutmix": "mixup",
          "model_ema_decay": "model_ema", "model_ema_warmup": "model_ema"}


def ablations(modern: dict, original: dict) -> dict[str, dict]:
    """One recipe per knob group where the two recipes differ: the modern recipe with that group original."""
    groups: dict[str, list[str]] = {}
    for key in RECIPE:
        if modern[key] != original[key]:
            groups.setdefault(GROUPS.get(key, key), []).append(key)
    return {f"without {group}": {**modern, **{k: original[k] for k in keys}} for group, keys in groups.items()}


def dataset(data: Path, name: str) -> Path:
    """The folder tree made into a dataset by 02_make_dataset's defaults (made once, then reused)."""
    root = work_dir() / "recipes" / name
    if not (root / "labels" / "test.csv").is_file():
        make_dataset(MakeDatasetConfig(input_path=str(data), dataset_path=str(root)), progress=True)
    return root


def run(recipe: dict, model: str, data: Path, args: argparse.Namespace, tag: str) -> dict:
    """Train ``model`` with ``recipe``; the run's metrics plus its training images per second."""
    config = TrainConfig.from_dict({**recipe, "dataset_name": "danbooruFaces", "dataset_path": str(data),
                                    "model_name": model, "image_size": args.image_size, "batch_size": args.batch_size,
                                    "no_epochs": args.epochs, "results_dir": str(work_dir() / "recipes" / "runs"),
                                    "run_name": f"{model}_{tag}_e{args.epochs}", "log_freq": 1000})
    print(f"training {model} with the {tag} recipe", flush=True)
    metrics = train(config, progress=sys.stderr.isatty()).metrics
    images = sum(1 for _ in (data / "labels" / "train.csv").open()) * args.epochs
    return {**metrics, "images_per_s": images / metrics["train_time_s"]}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help=DATA_HELP)
    parser.add_argument("--models", default="shallow,resnet18,S_16")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-ablation", action="store_true", help="skip the one-knob-off runs on resnet18")
    parser.add_argument("--quick", action="store_true", help="2 epochs of shallow, no ablation (a smoke run)")
    parser.add_argument("--output", help=f"Markdown report (default {RESULTS.name} for a full run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.models, args.epochs, args.no_ablation = "shallow", 2, True
    source = Path(args.data) if args.data else default_data_dir()
    if source is None or not source.is_dir():
        parser.error("no real pictures: give --data FOLDER (one subfolder of pictures per character)")
    data = dataset(source, source.name)
    start, load_at_start = time.perf_counter(), load_average()
    original, modern = (load_yaml(path) for path in RECIPES.values())
    table = Table(f"Test top-1 without ImageNet on {source.name} ({args.image_size} px, batch {args.batch_size}, "
                  f"{args.epochs} epochs)", ["model", "recipe", "test top-1", "train time s", "img/s",
                                              "time vs original"])
    section = Section("Training recipes", [table])
    results = {}
    for model in args.models.split(","):
        for tag, recipe in (("original", original), ("modern", modern)):
            results[model, tag] = run(recipe, model, data, args, tag)
        base = results[model, "original"]
        for tag in ("original", "modern"):
            r = results[model, tag]
            table.rows.append([model, tag, f"{r['test_top1']:.1f}%", f"{r['train_time_s']:.0f}",
                               f"{r['images_per_s']:.0f}", f"{r['train_time_s'] / base['train_time_s']:.2f}×"])
        print(markdown_table(table), flush=True)
    if "resnet18" in args.models.split(","):
        old, new = results["resnet18", "original"], results["resnet18", "modern"]
        gain, error = new["test_top1"] - old["test_top1"], 100 - old["test_top1"]
        asked = min(8.0, error / 2)
        section.targets += [
            Target("resnet18: modern − original test top-1", f"{gain:+.1f} points", f"≥ +{asked:.1f} (8 points or "
                   "half the error)", gain >= asked),
            Target("resnet18: modern / original training time", f"{new['train_time_s'] / old['train_time_s']:.2f}×",
                   "≤ 1.15×", new["train_time_s"] <= 1.15 * old["train_time_s"])]
        if not args.no_ablation:
            knobs = Table(f"What each knob of the modern recipe adds (resnet18, {source.name})",
                          ["recipe", "test top-1", "vs modern", "train time s"])
            knobs.rows.append(["modern", f"{new['test_top1']:.1f}%", "", f"{new['train_time_s']:.0f}"])
            for name, recipe in ablations(modern, original).items():
                r = run(recipe, "resnet18", data, args, name.replace(" ", "_"))
                knobs.rows.append([name, f"{r['test_top1']:.1f}%", f"{r['test_top1'] - new['test_top1']:+.1f}",
                                   f"{r['train_time_s']:.0f}"])
                print(markdown_table(knobs), flush=True)
            knobs.notes.append("Each row is the modern recipe with one knob group set back to the original's value "
                               "('without opt' is SGD with classical momentum at the original's learning rate).")
            section.tables.append(knobs)
    table.notes += [
        "Datasets: the folder tree made by 02_make_dataset with its defaults (70/15/15 per character, seed 0); "
        "test top-1 is the best-validation checkpoint on the test split, as metrics.json reports it.",
        "Train time: every epoch of training, validation and checkpoint writing (metrics.json's train_time_s); "
        "img/s counts training pictures. One run per cell: on small test splits a picture is worth "
        f"{100 / max(1, sum(1 for _ in (data / 'labels' / 'test.csv').open())):.1f} points.",
    ]
    output = Path(args.output) if args.output else RESULTS if not args.quick else work_dir() / "recipes.md"
    return write_report(output, [section], "benchmarks.recipes", argv, start, load_at_start)


if __name__ == "__main__":
    main()
