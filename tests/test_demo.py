"""``make demo``'s plan: valid parameters for every notebook, and models used only after they are trained."""

from __future__ import annotations

import json

import pytest

from animesion import demo
from animesion.config.train import TrainConfig
from animesion.data.synthetic import SyntheticConfig, generate_synthetic
from animesion.paths import resolve_path
from animesion.strict import load_yaml
from animesion.training import train
from animesion.training.run_dir import run_name
from animesion.workbook import notebook_config


def test_every_step_validates_and_uses_a_checkpoint_trained_by_an_earlier_step():
    trained: list[str] = []  # best checkpoints of the 03 steps so far
    for step in demo.demo_steps():
        config = notebook_config(step.notebook).from_dict(step.params)  # unknown keys or bad values would raise
        if step.notebook == "03_train":
            assert isinstance(config, TrainConfig)
            trained.append(f"{config.results_dir}/{run_name(config)}/best.safetensors")
        elif step.params.get("checkpoint_path"):
            assert step.params["checkpoint_path"] in trained, f"{step.notebook} uses a model no earlier step trains"
    assert len(trained) == 2
    outputs = [step.output for step in demo.demo_steps()]
    assert len(outputs) == len(set(outputs))  # executed notebooks do not overwrite each other
    tags = next(step for step in demo.demo_steps() if step.output == "05_inference_tags")
    attention = next(step for step in demo.demo_steps() if step.notebook == "06_attention_viz")
    assert tags.params["mode"] == "recognition_tagging" and tags.params["checkpoint_path"] == trained[1]
    assert attention.params["checkpoint_path"] == trained[1]  # 06 explains the vision+tags ViT


def test_the_summary_has_one_line_per_trained_model(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMESION_ROOT", str(tmp_path))
    (tmp_path / "parameters").mkdir()
    for recipe, values in ((demo.QUICKSTART, {"model_name": "shallow"}),
                           (demo.QUICKSTART_VILT, {"model_name": "Ti_16", "multimodal": True, "image_size": 32,
                                                   "mask_schedule": "full"})):
        (tmp_path / recipe).write_text(json.dumps(values))  # JSON is YAML
        config = TrainConfig(**values)
        run = tmp_path / config.results_dir / run_name(config)
        run.mkdir(parents=True)
        metrics = {"test_top1": 91.25, **({"test_tag_micro_f1": 0.734} if config.multimodal else {})}
        (run / "metrics.json").write_text(json.dumps(metrics))
    assert demo.summary_lines() == ["shallow: test top-1 91.2%",
                                    "Ti_16 (vision+tags): test top-1 91.2%, tag micro-F1 0.73"]


@pytest.mark.slow
def test_the_shallow_quickstart_recognises_the_synthetic_characters(tmp_path):
    """The demo's first model is worth looking at: ≥ 90% synthetic test top-1 (about a minute on 2 cores)."""
    data = generate_synthetic(tmp_path / "synthetic", SyntheticConfig(), progress=False)  # the demo's data/synthetic
    config = TrainConfig.from_dict({**load_yaml(resolve_path(demo.QUICKSTART)), "dataset_path": str(data),
                                    "results_dir": str(tmp_path / "outputs"), "no_cpu_workers": 0})
    assert train(config, progress=False).metrics["test_top1"] >= 90.0
