"""``make bench-open-set``: characters a model was never trained on, on real faces: the shared protocol
and the new-character folds.

    python -m benchmarks.open_set                    # $ANIMESION_BENCH_DATA → benchmarks/open_set.md
    python -m benchmarks.open_set --data my_faces/   # any folder tree of 20 or more characters
    python -m benchmarks.open_set --only folds       # the folds alone → benchmarks/new_characters.md

The shared protocol (``--only shared``):

1. The characters (subfolders) are sorted by name. The first 12 are made into a dataset by
   ``02_make_dataset`` (``resize_short_side 96``), and resnet18 trains on it at 64 px for 10 epochs with
   ``03_train``'s defaults (``python -m animesion.train``'s code).
2. Characters 13–16 are enrolled from their first 5 pictures (sorted by file name) through ``gallery_path``.
3. ``05_inference`` classifies 360 pictures: the last 30 of characters 1–4, 13–16 and 17–20.
4. From ``predictions.csv``: enrolled characters named right, never-seen ones called ``unknown``, and
   trained and enrolled ones wrongly called ``unknown``.

The folds (``--only folds``, :mod:`benchmarks.new_characters`): over ``--folds`` rotations, half the
characters trained, a quarter enrolled, a quarter never seen; the closed-set ceiling beside three floors,
the open-set figures and the confidence's calibration, on the pictures as they are and from another source.
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
from animesion.data.dataset import load_dataset
from animesion.inference.run import run_inference
from animesion.make_dataset import make_dataset
from animesion.prediction.colour import CENTRE
from animesion.prediction.open_set import UNKNOWN
from animesion.training import TrainResult, train
from benchmarks import new_characters as nc
from benchmarks.jpegs import DATA_HELP, default_data_dir, work_dir
from benchmarks.new_characters import link_tree, pictures
from benchmarks.report import Section, Table, Target, load_average, markdown_table, write_report

RESULTS = Path(__file__).resolve().parent / "open_set.md"  # both protocols
RESULTS_FOLDS = RESULTS.with_name("new_characters.md")  # the folds alone (--only folds)
TRAINED, ENROLLED, UNSEEN = range(0, 12), range(12, 16), range(16, 20)
SHOTS, TESTED = 5, 30


def train_on(tree: Path, work: Path, args: argparse.Namespace, changes: dict, name: str = "") -> TrainResult:
    """``tree`` made into a dataset by 02 (short side 96) and resnet18 trained on it with 03's defaults at 64 px,
    in the run folder ``name`` (default: 03's name for the parameters)."""
    dataset = work / "dataset"
    shutil.rmtree(dataset, ignore_errors=True)
    make_dataset(MakeDatasetConfig(input_path=str(tree), dataset_path=str(dataset), resize_short_side=96),
                 progress=sys.stderr.isatty())
    config = TrainConfig(dataset_name="danbooruFaces", dataset_path=str(dataset), model_name="resnet18",
                         image_size=64, no_epochs=args.epochs, results_dir=str(work / "runs"), run_name=name,
                         **changes)
    return train(config, progress=sys.stderr.isatty())


def shared_protocol(characters: list[Path], args: argparse.Namespace, changes: dict) -> Section:
    """Train on characters 1–12, enrol 13–16, classify the last pictures of 1–4, 13–16 and 17–20 as files."""
    work = work_dir() / "open_set"
    names = [c.name for c in characters]
    trained = link_tree(work / "trained_tree", {names[i]: pictures(characters[i]) for i in TRAINED})
    result = train_on(trained, work, args, changes)
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
    title = (f"Open set on {args.source.name}: resnet18, 64 px, {args.epochs} epochs, {SHOTS} pictures per enrolled "
             f"character" + "".join(f", {k}={v}" for k, v in changes.items()))
    report = Table(title, ["pictures", "count", "named right", "called unknown", "mean score"],
                   [[label, str(len(t)), f"{named[label]:.1%}", f"{unknown[label]:.1%}", f"{t['score'].mean():.3f}"]
                    for label, t in rows.items()])
    report.notes += [f"Calibrated threshold {run.predictor.open_set.threshold:.3f} (keeps "
                     f"{run.predictor.open_set.coverage:.0%} of the validation pictures); test top-1 of the "
                     f"12 trained characters' test split: {result.metrics['test_top1']:.1f}%.",
                     "'named right': top1 is the picture's own character (trained or enrolled); never-seen pictures "
                     "cannot be named right, only called unknown."]
    print(markdown_table(report))
    return Section("Open set", [report], [
        Target("enrolled characters named right", f"{named['enrolled (13–16)']:.1%}", "≥ 70%",
               named["enrolled (13–16)"] >= 0.70),
        Target("never-seen characters called unknown", f"{unknown['never seen (17–20)']:.1%}", "≥ 60%",
               unknown["never seen (17–20)"] >= 0.60),
        Target("trained and enrolled called unknown", f"{wrongly_unknown:.1%}", "≤ 20%", wrongly_unknown <= 0.20),
    ])


def fold_protocol(characters: list[Path], args: argparse.Namespace, changes: dict) -> Section:
    """The new-character protocol over ``args.folds`` folds, same source and cross-source, beside the floors."""
    work = work_dir() / "open_set_folds"
    figures: dict[str, dict[str, list[float]]] = {"same source": {}, "cross-source": {}}
    for fold in range(args.folds):
        roles = nc.fold_roles(len(characters), fold)
        print(f"fold {fold + 1}/{args.folds}: training on {len(roles.trained)} characters", flush=True)
        tree = link_tree(work / "trained_tree", {characters[i].name: pictures(characters[i]) for i in roles.trained})
        predictor = nc.load_predictor(train_on(tree, work, args, changes, f"fold{fold + 1}").best_checkpoint)
        for source, measured in fold_figures(predictor, characters, roles, fold, work / "dataset").items():
            for name, value in measured.items():
                figures[source].setdefault(name, []).append(value)
    return fold_section(figures, args, changes)


def fold_figures(predictor, characters: list[Path], roles: nc.Roles, fold: int,
                 dataset: Path) -> dict[str, dict[str, float]]:
    """One fold's ceiling, floors and open-set figures, on the pictures as they are and from another source."""
    data = load_dataset("danbooruFaces", dataset, progress=False)
    tests = data.splits["test"]
    trained = [predictor.load(data.image_root / r.path) for r in tests]
    trained_names = [data.class_names[r.class_id] for r in tests]
    # character → (its enrolment pictures, its query pictures), decoded
    loaded = {i: tuple([predictor.load(f) for f in files] for files in
                       nc.gallery_and_queries(pictures(characters[i]), fold)) for i in roles.left_out}
    names = {i: characters[i].name for i in roles.left_out}
    untrained, started = nc.untrained_like(predictor, seed=fold), nc.started_like(predictor)
    out = {"same source": nc.fold_measures(predictor, untrained, names, roles, loaded, (trained, trained_names),
                                           started)}
    # Another source: every left-out picture and every trained test picture re-framed; the backgrounds are
    # other characters' pictures (the trained test pictures, untouched)
    shifted = {i: tuple(nc.other_source(images, 100_000 * fold + 1000 * i + 500 * part, trained)
                        for part, images in enumerate(pair)) for i, pair in loaded.items()}
    moved = nc.other_source(trained, 100_000 * fold + 99_000, trained[1:] + trained[:1])
    out["cross-source"] = nc.fold_measures(predictor, untrained, names, roles, shifted, (moved, trained_names),
                                           started)
    return out


def fold_section(figures: dict[str, dict[str, list[float]]], args: argparse.Namespace, changes: dict) -> Section:
    """The folds' means and spreads, same source beside cross-source, and the issue's targets."""
    sources = list(figures)
    table = Table(f"New characters on {args.source.name}, {args.folds} folds: resnet18, 64 px, {args.epochs} epochs, "
                  f"{nc.SHOTS} pictures per enrolled character" + "".join(f", {k}={v}" for k, v in changes.items()),
                  ["figure (% , mean ± sd over folds)", *sources],
                  [[name, *(nc.summary(figures[s][name]) for s in sources)] for name in figures[sources[0]]])
    table.notes += [
        "Ceiling: the characters left out of training (a quarter enrolled, a quarter never seen) enrolled from "
        f"{nc.SHOTS} pictures each and named among themselves by the nearest prototype, no unknown; "
        f"{nc.QUERIES} pictures each; the trained network as 05 tells enrolled characters apart (its embedding joined "
        "to the colour histogram at the calibration's weight), and its embedding alone (the colour part at the "
        "training pictures' mean); with a backbone (03's default "
        "for resnet18), that backbone's embedding before any training on labels. Floors: the same network "
        "untrained, the raw 64-px pixels, and an HSV colour histogram (8×4×4 bins) of the whole picture and of its "
        f"centre {CENTRE:.0%}, named the same way.",
        "Open set: the checkpoint's calibration and the package's recognise, as 05 does it. Confidence: the "
        "trained characters' test pictures named among the trained characters, grouped by confidence in 10 bins; "
        "the gap is |mean confidence − share right| (goal: ≤ 10 points in every bin).",
        "Cross-source: the left-out characters' pictures and the trained characters' test pictures zoomed out "
        "onto a blurred background, shrunk, recompressed and toned (benchmarks/new_characters.another_source)."]
    print(markdown_table(table))
    mean = {s: {k: sum(v) / len(v) for k, v in figures[s].items()} for s in sources}
    targets = []
    for s in sources:
        floor = max(mean[s][f"ceiling: {n}"] for n in nc.FLOORS)
        ceiling = mean[s][f"ceiling: {nc.CEILING}"]
        targets.append(Target(f"{s}: ceiling above the best floor", f"{100 * (ceiling - floor):+.1f} points",
                              "≥ +10 points", ceiling - floor >= 0.10))
    same = mean["same source"]
    drop = same["trained named right, no gallery"] - same["trained named right, with the gallery"]
    targets += [
        Target("folds: enrolled named right", f"{same['enrolled named right']:.1%}", "≥ 75%",
               same["enrolled named right"] >= 0.75),
        Target("folds: never seen called unknown", f"{same['never seen called unknown']:.1%}", "≥ 65%",
               same["never seen called unknown"] >= 0.65),
        Target("folds: trained and enrolled called unknown", f"{same['trained and enrolled called unknown']:.1%}",
               "≤ 15%", same["trained and enrolled called unknown"] <= 0.15),
        Target("folds: trained accuracy lost to the gallery", f"{100 * drop:.1f} points", "≤ 3 points", drop <= 0.03)]
    gap = max(max(figures[s]["confidence: largest gap of a bin with 20+ answers"]) for s in sources)
    targets.append(Target("confidence: largest bin gap, any fold or source", f"{100 * gap:.1f} points",
                          "≤ 10 points", gap <= 0.10))
    return Section("New characters over folds", [table], targets)


PROTOCOLS = {"shared": shared_protocol, "folds": fold_protocol}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help=f"{DATA_HELP}; 20 characters or more")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5, help="folds of the new-character protocol (5 or more)")
    parser.add_argument("--only", default=",".join(PROTOCOLS),
                        help=f"comma-separated protocols among {', '.join(PROTOCOLS)}")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="a training parameter other than 03's default, its value read as YAML (e.g. -p "
                             "model_ema true)")
    parser.add_argument("--output", help=f"Markdown report (default {RESULTS.name}, or {RESULTS_FOLDS.name} for "
                                         "--only folds)")
    args = parser.parse_args(argv)
    args.source = Path(args.data) if args.data else default_data_dir()
    if args.source is None or not args.source.is_dir():
        parser.error("no real pictures: give --data FOLDER (one subfolder of pictures per character)")
    characters = sorted(p for p in args.source.iterdir() if p.is_dir())
    if len(characters) < 20:
        parser.error(f"the protocol needs 20 characters; {args.source} has {len(characters)}")
    chosen = args.only.split(",")
    if set(chosen) - set(PROTOCOLS):
        parser.error(f"--only takes protocols of {PROTOCOLS}")
    start, load_at_start = time.perf_counter(), load_average()
    changes = {name: yaml.safe_load(value) for name, value in args.parameter}
    sections = [PROTOCOLS[name](characters, args, changes) for name in chosen]
    output = Path(args.output) if args.output else RESULTS_FOLDS if chosen == ["folds"] else RESULTS
    return write_report(output, sections, "benchmarks.open_set", argv, start, load_at_start)


if __name__ == "__main__":
    main()
