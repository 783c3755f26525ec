"""``python -m animesion.demo`` (``make demo``): every notebook, headless, on the synthetic dataset.

Two models are trained: the ``shallow`` CNN of ``parameters/quickstart.yaml``, which 04 and 05 then
evaluate and use, and the vision+tags ViT of ``parameters/quickstart_vilt.yaml``, which 05 tags new
pictures with and 06 explains. The demo ends with one line per trained model: its test top-1 (and tag
micro-F1).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass

from .config.train import TrainConfig
from .errors import AnimesionError
from .paths import resolve_path
from .strict import load_yaml
from .training.run_dir import run_name
from .workbook import run_notebook

QUICKSTART = "parameters/quickstart.yaml"
QUICKSTART_VILT = "parameters/quickstart_vilt.yaml"


@dataclass(frozen=True)
class Step:
    """One notebook run of the demo: the notebook, the name of its executed copy, its parameters."""

    notebook: str
    output: str
    params: dict


def trained(recipe: str) -> tuple[TrainConfig, str]:
    """The config of a quickstart parameter file and the path of the best checkpoint its run writes."""
    config = TrainConfig.from_dict(load_yaml(resolve_path(recipe)))
    return config, f"{config.results_dir}/{run_name(config)}/best.safetensors"


def demo_steps() -> list[Step]:
    """The notebooks in the order the demo runs them; each uses a checkpoint only after a step trains it."""
    quick, quick_best = trained(QUICKSTART)
    vilt, vilt_best = trained(QUICKSTART_VILT)
    return [
        Step("01_data_exploration", "01_data_exploration", {}),
        Step("02_make_dataset", "02_make_dataset", {}),
        Step("03_train", "03_train", load_yaml(resolve_path(QUICKSTART))),
        Step("04_evaluate", "04_evaluate", {"checkpoint_path": quick_best}),
        Step("05_inference", "05_inference", {"checkpoint_path": quick_best}),
        Step("03_train", "03_train_vilt", load_yaml(resolve_path(QUICKSTART_VILT))),
        Step("05_inference", "05_inference_tags", {"checkpoint_path": vilt_best, "mode": "recognition_tagging",
                                                   "results_dir": "outputs/tagging"}),
        Step("06_attention_viz", "06_attention_viz", {"checkpoint_path": vilt_best}),
    ]


def summary_lines() -> list[str]:
    """``<model>: test top-1 X%`` (and the tag micro-F1) of every model the demo trained."""
    lines = []
    for recipe in (QUICKSTART, QUICKSTART_VILT):
        config, best = trained(recipe)
        metrics_path = resolve_path(best).parent / "metrics.json"
        if not metrics_path.is_file():
            continue
        metrics = json.loads(metrics_path.read_text())
        what = f"{config.model_name}{' (vision+tags)' if config.multimodal else ''}"
        line = f"{what}: test top-1 {metrics['test_top1']:.1f}%"
        if "test_tag_micro_f1" in metrics:
            line += f", tag micro-F1 {metrics['test_tag_micro_f1']:.2f}"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run every demo step, then print the summary of the trained models and the time taken."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only these notebooks (e.g. 03_train)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for step in demo_steps():
        if args.only and step.notebook not in args.only:
            continue
        start = time.perf_counter()
        print(f"▶ {step.notebook} {step.params or ''}", flush=True)
        try:
            out = run_notebook(step.notebook, step.params, output=f"outputs/notebooks/{step.output}.ipynb",
                               progress=False)
        except AnimesionError as err:
            print(f"✗ {step.notebook}: {err}", file=sys.stderr)
            return 2
        except Exception as err:  # papermill's execution error: show its last line only
            print(f"✗ {step.notebook} failed: {str(err).strip().splitlines()[-1]}", file=sys.stderr)
            return 1
        print(f"  done in {time.perf_counter() - start:.0f} s → {out}", flush=True)
    print(f"\nThe demo took {time.perf_counter() - started:.0f} s. Trained models (synthetic test split):")
    print(*(f"  {line}" for line in summary_lines()), sep="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
