"""``make demo``'s plan: valid parameters for every notebook, and models used only after they are trained."""

from __future__ import annotations

from animesion.config.train import TrainConfig
from animesion.demo import demo_steps
from animesion.training.run_dir import run_name
from animesion.workbook import notebook_config


def test_every_step_validates_and_uses_a_checkpoint_trained_by_an_earlier_step():
    trained: list[str] = []  # best checkpoints of the 03 steps so far
    for notebook, _, params in demo_steps():
        config = notebook_config(notebook).from_dict(params)  # unknown keys or bad values would raise
        if notebook == "03_train":
            assert isinstance(config, TrainConfig)
            trained.append(f"{config.results_dir}/{run_name(config)}/best.safetensors")
        elif params.get("checkpoint_path"):
            assert params["checkpoint_path"] in trained, f"{notebook} uses a checkpoint no earlier step trains"
    names = [name for _, name, _ in demo_steps()]
    assert len(names) == len(set(names))  # executed notebooks do not overwrite each other
    tags_step = next(params for _, name, params in demo_steps() if name == "05_inference_tags")
    assert tags_step["mode"] == "recognition_tagging" and "quickstart_vilt" in tags_step["checkpoint_path"]
