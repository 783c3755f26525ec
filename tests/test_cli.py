"""``python -m animesion.train``: the notebook's parameters as flags and YAML; mistakes are one sentence, exit 2."""

from __future__ import annotations

import pytest
import yaml

from animesion.config.cli import parse_config
from animesion.config.train import TrainConfig
from animesion.train import main

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
