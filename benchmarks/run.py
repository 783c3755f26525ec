"""``make bench``: speed and memory of the workbook against a naive reference pipeline, on this machine.

    python -m benchmarks.run                 # everything, a few minutes on 2 cores → benchmarks/results.md
    python -m benchmarks.run --quick         # a smoke run of about a minute → outputs/bench/results.md
    python -m benchmarks.run --only train,infer --rounds 5

Every comparison is measured side by side in interleaved rounds and printed as a ratio; the summary
table says which of the issue's targets were met on this machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks import data_bench, epoch_bench, eval_bench, infer_bench, train_bench
from benchmarks.jpegs import DATA_HELP, load_jpegs, work_dir
from benchmarks.report import Section, load_average, markdown_table, render, targets_table

SECTIONS = ("train", "data", "epoch", "infer", "eval")
RESULTS = Path(__file__).resolve().parent / "results.md"


@dataclass
class Plan:
    """How much each section measures: full runs and quick smoke runs differ only in these numbers.

    ``rounds``: interleaved timing rounds of the cheap sections; whole epochs and folder passes are
    long enough that ``long_rounds`` of them suffice.
    """

    rounds: int
    long_rounds: int
    train_models: list[str]
    data_images: int
    epoch_images: int
    infer_models: list[str]
    infer_images: int


FULL = Plan(rounds=2, long_rounds=2, train_models=["shallow", "resnet18", "S_16", "B_16"], data_images=192,
            epoch_images=64, infer_models=["shallow", "resnet18", "S_16"], infer_images=256)
QUICK = Plan(rounds=1, long_rounds=1, train_models=["shallow", "resnet18"], data_images=64, epoch_images=64,
             infer_models=["shallow"], infer_images=32)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer models, images and rounds (about a minute)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    parser.add_argument("--rounds", type=int, help="interleaved timing rounds per comparison (best one is kept)")
    parser.add_argument("--data", help=f"{DATA_HELP}, else a generated synthetic set at 256 px")
    parser.add_argument("--checkpoint", default="", help="classify with this trained checkpoint in the inference "
                                                         "section instead of freshly initialised models")
    parser.add_argument("--compile", action="store_true", help="also torch.compile the fast training models")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--output", help="Markdown report (default: benchmarks/results.md for a full run, "
                                         "outputs/bench/results.md otherwise)")
    args = parser.parse_args(argv)
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> Path:
    """Run the chosen sections, print each table as it is ready, write the Markdown report."""
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    rounds, long_rounds = args.rounds or plan.rounds, args.rounds or plan.long_rounds
    only = [s for s in SECTIONS if s in args.only.split(",")]
    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          "cpu" if args.device == "auto" else args.device)
    images = load_jpegs(args.data) if {"data", "epoch", "infer"} & set(only) else None
    runners = {
        "train": lambda: train_bench.run(device, plan.train_models, rounds, compile=args.compile),
        "data": lambda: data_bench.run(images, device, plan.data_images, rounds),
        "epoch": lambda: epoch_bench.run(images, device, plan.epoch_images, long_rounds),
        "infer": lambda: infer_bench.run(images, device, plan.infer_models, plan.infer_images, long_rounds,
                                         args.checkpoint),
        "eval": lambda: eval_bench.run(device, rounds),
    }
    sections: list[Section] = []
    start, load_at_start = time.perf_counter(), load_average()
    for name in only:
        print(f"\n== {name} ==", flush=True)
        section = runners[name]()
        sections.append(section)
        for table in section.tables:
            print(markdown_table(table), flush=True)
    minutes = (time.perf_counter() - start) / 60
    full = not args.quick and only == list(SECTIONS)
    output = Path(args.output) if args.output else RESULTS if full else work_dir() / "results.md"
    command = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    preamble = [f"Written by `{command.strip()}` in {minutes:.1f} minutes. Each comparison was timed in "
                f"interleaved rounds ({rounds}; {long_rounds} for whole epochs and folder passes); each figure is "
                "the best round, and ratios compare best rounds."]
    output.write_text(render(sections, device, preamble, load_at_start))
    print(markdown_table(targets_table(sections)), f"Wrote {output}", sep="\n")
    return output


if __name__ == "__main__":
    main()
