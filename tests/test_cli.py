"""``python -m animesion.train``, ``.evaluate`` and ``.inference``: a notebook's parameters as flags and YAML, the
notebook's package calls; mistakes are one sentence, exit 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from animesion import evaluate
from animesion.config.cli import parse_config
from animesion.config.train import TrainConfig
from animesion.inference import __main__ as inference
from animesion.inference.samples import make_sample_images
from animesion.models.checkpoint import load_checkpoint
from animesion.train import main

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_yaml_file_then_flags_typed_by_the_dataclass(tmp_path):
    params = tmp_path / "x.yaml"
    params.write_text(yaml.safe_dump({"model_name": "Ti_16", "no_epochs": 7, "learning_rate": 0.1}))
    config = parse_config(TrainConfig, ["-f", str(params), "--no_epochs", "3", "--run_name", "007",
                                        "--pretrained=true", "--tracker", "None", "--learning_rate", "1e-3"],
                          prog="train")
    assert config.model_name == "Ti_16"  # from the file
    assert config.no_epochs == 3  # the flag wins
    assert config.run_name == "007"  # text parameters keep their text
    assert config.pretrained is True and config.tracker is None
    assert config.learning_rate == pytest.approx(1e-3)


@pytest.mark.parametrize(("argv", "message"), [
    (["--lerning_rate", "0.1"], "unknown parameter 'lerning_rate'. Did you mean 'learning_rate'?"),
    (["--batch_size", "many"], "parameter 'batch_size' must be int, got 'many'"),
    (["--mixed_precision", "fp8"], "mixed_precision='fp8' is not allowed; choose one of: no, bf16, fp16."),
    (["-f", "missing.yaml"], "Parameter file 'missing.yaml' does not exist."),
    (["--no_epochs"], "argument --no_epochs: expected one argument."),
])
def test_mistakes_print_one_sentence_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("error: ")


# Every boolean flag of the original train.py, with the flags it needs to validate.
SWITCHES = {"pretrained": [], "transfer_learning": [], "interm_features_fc": [], "debugging": [], "multimodal": [],
            "ret_attn_scores": [], "shuffle_tokens": [], "exclusion_loss": ["--interm_features_fc"]}
VIT = ["--model_name", "Ti_16"]  # multimodal and interm_features_fc need a ViT


def test_every_original_switch_works_bare_together():
    config = parse_config(TrainConfig, [*VIT, *(f"--{name}" for name in SWITCHES)], prog="train")
    assert all(getattr(config, name) is True for name in SWITCHES)
    assert parse_config(TrainConfig, [*VIT, "--debugging", "--interm_features_fc"], prog="train").debugging is True


@pytest.mark.parametrize("name", SWITCHES)
def test_each_switch_bare_true_and_false(name):
    needs = [*VIT, *SWITCHES[name]]
    assert getattr(parse_config(TrainConfig, [*needs, f"--{name}"], prog="train"), name) is True
    assert getattr(parse_config(TrainConfig, [*needs, f"--{name}", "True"], prog="train"), name) is True
    assert getattr(parse_config(TrainConfig, [*needs, f"--{name}", "False"], prog="train"), name) is False
    assert getattr(parse_config(TrainConfig, needs, prog="train"), name) is False  # the default: off


def test_a_bad_switch_value_is_one_sentence_naming_the_flag_and_its_values(capsys):
    assert main([*VIT, "--shuffle_tokens", "maybe"]) == 2
    err = capsys.readouterr().err
    assert err == "error: TrainConfig: parameter 'shuffle_tokens' must be bool (true or false), got 'maybe' (str).\n"


def test_process_count_must_agree_with_the_launcher(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["--num_processes", "3", "--batch_size", "6"]) == 2
    assert "num_processes=3, but 2 processes were launched" in capsys.readouterr().err


def test_a_run_from_the_command_line(tiny_dataset, tmp_path, capsys):
    argv = ["--dataset_path", str(tiny_dataset), "--results_dir", str(tmp_path), "--image_size", "32",
            "--batch_size", "16", "--no_epochs", "1", "--run_name", "cli", "--no_cpu_workers", "0"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"run folder: {tmp_path / 'cli'}" in out
    assert (tmp_path / "cli" / "metrics.json").is_file()
    assert yaml.safe_load((tmp_path / "cli" / "params.yaml").read_text())["batch_size"] == 16


def notebook_comments(stem: str) -> dict[str, str]:
    """The comment of every line of a notebook's parameters cell, by parameter name."""
    cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())["cells"]
    cell = next(c for c in cells if "parameters" in c["metadata"].get("tags", []))
    return {line.split(" = ", 1)[0]: line.split("  # ", 1)[1] for line in "".join(cell["source"]).splitlines()}


@pytest.mark.parametrize(("command", "stem"), [(main, "03_train"), (evaluate.main, "04_evaluate"),
                                               (inference.main, "05_inference")])
def test_help_lists_every_flag_with_the_notebooks_text(command, stem, capsys):
    with pytest.raises(SystemExit) as done:
        command(["--help"])
    assert done.value.code == 0
    text = re.sub(r"\s+", "", capsys.readouterr().out)  # argparse wraps lines to the terminal's width
    comments = notebook_comments(stem)
    assert comments
    for name, comment in comments.items():
        assert f"--{name}" in text and re.sub(r"\s+", "", comment) in text


def test_evaluate_command_prints_the_summary_and_saves_the_report(tiny_run, capsys):
    argv = ["--checkpoint_path", str(tiny_run.best_checkpoint), "--vis_arch", "--eval_imagebyimage", "--save_results",
            "--no_cpu_workers", "0"]
    assert evaluate.main(argv) == 0
    out = capsys.readouterr().out
    out_dir = tiny_run.run_dir / "evaluation_test"
    summary = json.loads((out_dir / "summary.json").read_text())
    assert f"checkpoint: {tiny_run.best_checkpoint}" in out
    assert (f"test split, 12 samples: top-1 {summary['top1']:.2f}%  top-5 {summary['top5']:.2f}%\n"
            f"CSVs and figures: {out_dir}\n") in out
    weights = sum(p.numel() for p in load_checkpoint(tiny_run.best_checkpoint).model.parameters())
    assert re.search(rf"^\s*TOTAL\s+ShallowNet\s+{weights}$", out, re.MULTILINE)  # the vis_arch table
    for name in ("per_class_accuracy.csv", "confused_pairs.csv", "per_class_accuracy.png", "misclassified.png"):
        assert (out_dir / name).is_file()


def test_evaluate_command_without_saving_or_the_summary_table(tiny_run, capsys):
    summary = tiny_run.run_dir / "evaluation_val" / "summary.json"
    before = summary.stat().st_mtime_ns if summary.exists() else None  # other tests may have saved this split
    argv = ["--checkpoint_path", str(tiny_run.best_checkpoint), "--split", "val", "--save_results", "False",
            "--no_cpu_workers", "0"]
    assert evaluate.main(argv) == 0
    out = capsys.readouterr().out
    assert "val split, 12 samples: top-1 " in out
    assert "TOTAL" not in out and "CSVs and figures" not in out
    assert (summary.stat().st_mtime_ns if summary.exists() else None) == before


@pytest.mark.parametrize(("command", "argv", "message"), [
    (evaluate.main, ["--split", "holdout"], "EvaluateConfig: split='holdout' is not allowed; choose one of: train, "
                                            "val, test."),
    (evaluate.main, ["--vis_arch", "maybe"], "parameter 'vis_arch' must be bool (true or false), got 'maybe'"),
    (evaluate.main, ["--checkpoint_path", "nowhere.safetensors"], "checkpoint_path '"),
    (inference.main, ["--mode", "tagging"], "InferenceConfig: mode='tagging' is not allowed; choose one of: "
                                            "recognition_vision, recognition_tagging, gen_tags, captions."),
    (inference.main, ["--tests_path", "x"], "unknown parameter 'tests_path'. Did you mean 'test_path'?"),
])
def test_command_mistakes_print_one_sentence_and_exit_2(command, argv, message, capsys):
    assert command(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert captured.out == ""


def test_inference_command_lists_each_picture_then_the_unreadable_files(tiny_run, tmp_path, capsys):
    folder = make_sample_images(tmp_path / "pictures", count=3)
    argv = ["--mode", "recognition_vision", "--test_path", str(folder), "--checkpoint_path",
            str(tiny_run.best_checkpoint), "--save_results", "--results_dir", str(tmp_path / "out")]
    assert inference.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    predictions = (tmp_path / "out" / "inference" / "predictions.csv").read_text().splitlines()
    assert len(predictions) == 4  # a header and the three pictures
    pictures = sorted(p.name for p in folder.glob("*.png"))
    assert [line.split(": ", 1)[0] for line in lines[:3]] == pictures
    first = pd.read_csv(tmp_path / "out" / "inference" / "predictions.csv").iloc[0]
    # the calibrated run's answer (a character or 'unknown', then its best match) and its confidence, then the
    # top-5 led by the best match
    names = [first["best_match"]] + [first[f"top{k}"] for k in range(2, 6)]
    answer = f"{first['top1']} (confidence {first['confidence']:.2f})"
    answer += f", best match {first['best_match']}" if first["top1"] == "unknown" else ""
    assert lines[0] == (f"{pictures[0]}: {answer} | "
                        + ", ".join(f"{name} {first[f'top{k}_prob'] * 100:.1f}%" for k, name in enumerate(names, 1)))
    assert lines[3].startswith("unreadable: README.txt: not a readable image")
    assert lines[4].startswith("unreadable: broken.jpg: not a readable image")
    assert lines[5] == f"3 pictures classified in {folder} with {tiny_run.best_checkpoint}"
    assert lines[6] == f"results: {tmp_path / 'out' / 'inference'}"


def test_inference_command_prints_the_predicted_tags(tiny_vilt_run, tmp_path, capsys):
    folder = make_sample_images(tmp_path / "pictures", count=2)
    argv = ["--mode", "recognition_tagging", "--test_path", str(folder), "--checkpoint_path",
            str(tiny_vilt_run[1].best_checkpoint), "--save_results", "False", "--results_dir", str(tmp_path)]
    assert inference.main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(" | tags: " in line for line in lines[:2])
    assert not any(line.startswith("results: ") for line in lines) and not (tmp_path / "inference").exists()


def test_python_dash_m_runs_the_commands(tiny_run):
    """The done-when command of the issue, as a user types it (the only test here that starts a process)."""
    command = [sys.executable, "-m", "animesion.evaluate", "--checkpoint_path", str(tiny_run.best_checkpoint),
               "--vis_arch", "--eval_imagebyimage", "--save_results"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test split, 12 samples: top-1 " in done.stdout and "TOTAL" in done.stdout
