"""``python -m animesion.demo`` (``make demo``): run the notebooks headless on the synthetic dataset."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .config.attention import QUICKSTART_VIT
from .config.train import TrainConfig
from .errors import AnimesionError
from .paths import resolve_path
from .strict import load_yaml
from .training.run_dir import run_name
from .workbook import run_notebook

QUICKSTART_VILT = "parameters/quickstart_vilt.yaml"


def demo_steps() -> list[tuple[str, str, dict]]:
    """(notebook, output name, parameters) in the order the demo runs them."""
    quick = TrainConfig()
    best = f"{quick.results_dir}/{run_name(quick)}/best.safetensors"
    return [
        ("01_data_exploration", "01_data_exploration", {}),
        ("02_make_dataset", "02_make_dataset", {}),
        ("03_train", "03_train", {}),
        ("04_evaluate", "04_evaluate", {"checkpoint_path": best}),
        ("05_inference", "05_inference", {"checkpoint_path": best}),
        *attention_steps(),
        *tagging_steps(),
    ]


def train_then(recipe: str, train_name: str, notebook: str, out_name: str, params: dict) -> list[tuple[str, str, dict]]:
    """Train the ``recipe`` parameter file in 03, then run ``notebook`` on its best checkpoint with ``params``."""
    values = load_yaml(resolve_path(recipe))
    config = TrainConfig.from_dict(values)
    best = f"{config.results_dir}/{run_name(config)}/best.safetensors"
    return [("03_train", train_name, values), (notebook, out_name, {"checkpoint_path": best, **params})]


def attention_steps() -> list[tuple[str, str, dict]]:
    """Train the quickstart ViT (about a minute), then look at its attention in 06."""
    return train_then(QUICKSTART_VIT, "03_train_vit", "06_attention_viz", "06_attention_viz", {})


def tagging_steps() -> list[tuple[str, str, dict]]:
    """Train the quickstart vision+tags ViT (a few minutes), then predict characters and tags in 05."""
    return train_then(QUICKSTART_VILT, "03_train_vilt", "05_inference", "05_inference_tags",
                      {"mode": "recognition_tagging", "results_dir": "outputs/tagging"})


def main(argv: list[str] | None = None) -> int:
    """Run every demo step, then print the test top-1 of the quickstart model."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="run only these notebooks (e.g. 03_train)")
    args = parser.parse_args(argv)
    for notebook, out_name, params in demo_steps():
        if args.only and notebook not in args.only:
            continue
        start = time.perf_counter()
        print(f"▶ {notebook} {params or ''}", flush=True)
        try:
            out = run_notebook(notebook, params, output=f"outputs/notebooks/{out_name}.ipynb", progress=False)
        except AnimesionError as err:
            print(f"✗ {notebook}: {err}", file=sys.stderr)
            return 2
        except Exception as err:  # papermill's execution error: show its last line only
            print(f"✗ {notebook} failed: {str(err).strip().splitlines()[-1]}", file=sys.stderr)
            return 1
        print(f"  done in {time.perf_counter() - start:.0f} s → {out}", flush=True)
    metrics_path = resolve_path(TrainConfig().results_dir) / run_name(TrainConfig()) / "metrics.json"
    if metrics_path.is_file():
        metrics = json.loads(metrics_path.read_text())
        print(f"Synthetic test top-1 of {TrainConfig().model_name}: {metrics['test_top1']:.2f}% "
              f"(top-5 {metrics['test_top5']:.2f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
