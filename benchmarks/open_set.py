"""``make bench-open-set``: characters a model was never trained on, the shared protocol on real faces.

    python -m benchmarks.open_set                    # $ANIMESION_BENCH_DATA → benchmarks/open_set.md
    python -m benchmarks.open_set --data my_faces/   # any folder tree of 20 or more characters

1. The characters (subfolders) are sorted by name. The first 12 are made into a dataset by
   ``02_make_dataset`` (``resize_short_side 96``), and resnet18 trains on it at 64 px for 10 epochs with
   ``03_train``'s defaults (``python -m animesion.train``'s code).
2. Characters 13–16 are enrolled from their first 5 pictures (sorted by file name) through ``gallery_path``.
3. ``05_inference`` classifies 360 pictures: the last 30 of characters 1–4, 13–16 and 17–20.
4. From ``predictions.csv``: enrolled characters named right, never-seen ones called ``unknown``, and
   trained and enrolled ones wrongly called ``unknown``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from animesion.config.inference import InferenceConfig
from animesion.config.make_dataset import MakeDatasetConfig
from animesion.config.train import TrainConfig
from animesion.data.images import is_image_file
from animesion.inference.run import run_inference
from animesion.make_dataset import make_dataset
from animesion.prediction.open_set import UNKNOWN
from animesion.training import train
from benchmarks.jpegs import DATA_HELP, default_data_dir, work_dir
from benchmarks.report import Section, Table, Target, load_average, markdown_table, write_report

RESULTS = Path(__file__).resolve().parent / "open_set.md"
TRAINED, ENROLLED, UNSEEN = range(0, 12), range(12, 16), range(16, 20)
SHOTS, TESTED = 5, 30


def pictures(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def link_tree(target: Path, folders: dict[str, list[Path]]) -> Path:
    """A folder tree of links (copies where links fail) to the given pictures, made afresh."""
    shutil.rmtree(target, ignore_errors=True)
    for name, files in folders.items():
        (target / name).mkdir(parents=True)
        for file in files:
            try:
                (target / name / file.name).symlink_to(file.resolve())
            except OSError:
                shutil.copyfile(file, target / name / file.name)
    return target


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help=f"{DATA_HELP}; 20 characters or more")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a training parameter other than 03's default, its value read as YAML (e.g. -p "
                             "model_ema true)")
    parser.add_argument("--output", help=f"Markdown report (default {RESULTS.name})")
    args = parser.parse_args(argv)
    source = Path(args.data) if args.data else default_data_dir()
    if source is None or not source.is_dir():
        parser.error("no real pictures: give --data FOLDER (one subfolder of pictures per character)")
    characters = sorted(p for p in source.iterdir() if p.is_dir())
    if len(characters) < 20:
        parser.error(f"the protocol needs 20 characters; {source} has {len(characters)}")
    start, load_at_start = time.perf_counter(), load_average()
    work = work_dir() / "open_set"
    names = [c.name for c in characters]
    trained = link_tree(work / "trained_tree", {names[i]: pictures(characters[i]) for i in TRAINED})
    dataset = work / "dataset"
    make_dataset(MakeDatasetConfig(input_path=str(trained), dataset_path=str(dataset), resize_short_side=96),
                 progress=True)
    changes = {name: yaml.safe_load(value) for name, value in args.parameter}
    config = TrainConfig(dataset_name="danbooruFaces", dataset_path=str(dataset), model_name="resnet18",
                         image_size=64, no_epochs=args.epochs, results_dir=str(work / "runs"), **changes)
    result = train(config, progress=sys.stderr.isatty())
    gallery = link_tree(work / "gallery", {names[i]: pictures(characters[i])[:SHOTS] for i in ENROLLED})
    tested = [i for group in (range(4), ENROLLED, UNSEEN) for i in group]
    test = link_tree(work / "test", {names[i]: pictures(characters[i])[-TESTED:] for i in tested})
    run = run_inference(InferenceConfig(checkpoint_path=str(result.best_checkpoint), test_path=str(test),
                                        gallery_path=str(gallery), results_dir=str(work)), progress=False)
    table = pd.read_csv(run.out_dir / "predictions.csv")
    table["truth"] = [Path(f).parent.name for f in table["file"]]
    groups = {"trained (1–4)": [names[i] for i in range(4)], "enrolled (13–16)": [names[i] for i in ENROLLED],
              "never seen (17–20)": [names[i] for i in UNSEEN]}
    rows = {label: table[table["truth"].isin(members)] for label, members in groups.items()}
    named = {label: float((t["top1"] == t["truth"]).mean()) for label, t in rows.items()}
    unknown = {label: float((t["top1"] == UNKNOWN).mean()) for label, t in rows.items()}
    known = pd.concat([rows["trained (1–4)"], rows["enrolled (13–16)"]])
    wrongly_unknown = float((known["top1"] == UNKNOWN).mean())
    title = (f"Open set on {source.name}: resnet18, 64 px, {args.epochs} epochs, {SHOTS} pictures per enrolled "
             f"character" + "".join(f", {k}={v}" for k, v in changes.items()))
    report = Table(title, ["pictures", "count", "named right", "called unknown", "mean score"],
                   [[label, str(len(t)), f"{named[label]:.1%}", f"{unknown[label]:.1%}", f"{t['score'].mean():.3f}"]
                    for label, t in rows.items()])
    report.notes += [f"Calibrated threshold {run.predictor.open_set.threshold:.3f} (keeps "
                     f"{run.predictor.open_set.coverage:.0%} of the validation pictures); test top-1 of the "
                     f"12 trained characters' test split: {result.metrics['test_top1']:.1f}%.",
                     "'named right': top1 is the picture's own character (trained or enrolled); never-seen pictures "
                     "cannot be named right, only called unknown."]
    section = Section("Open set", [report], [
        Target("enrolled characters named right", f"{named['enrolled (13–16)']:.1%}", "≥ 70%",
               named["enrolled (13–16)"] >= 0.70),
        Target("never-seen characters called unknown", f"{unknown['never seen (17–20)']:.1%}", "≥ 60%",
               unknown["never seen (17–20)"] >= 0.60),
        Target("trained and enrolled called unknown", f"{wrongly_unknown:.1%}", "≤ 20%", wrongly_unknown <= 0.20),
    ])
    print(markdown_table(report))
    output = Path(args.output) if args.output else RESULTS
    return write_report(output, [section], "benchmarks.open_set", argv, start, load_at_start)


if __name__ == "__main__":
    main()
