"""``make demo``'s plan: valid parameters for every notebook, and models used only after they are trained."""

from __future__ import annotations

from animesion.demo import demo_steps
from animesion.workbook import notebook_config


def test_every_step_validates_and_uses_a_checkpoint_trained_before_it():
    trained: list[str] = []
    for notebook, _, params in demo_steps():
        config = notebook_config(notebook).from_dict(params)  # unknown keys or bad values would raise
        if notebook == "03_train":
            trained.append(config.run_name or "")
        elif params.get("checkpoint_path"):
            assert trained, f"{notebook} runs before any training step"
    names = [name for _, name, _ in demo_steps()]
    assert len(names) == len(set(names))  # executed notebooks do not overwrite each other
    assert ("05_inference", "05_inference_tags") in [(nb, name) for nb, name, _ in demo_steps()]
    tags_step = next(params for _, name, params in demo_steps() if name == "05_inference_tags")
    assert tags_step["mode"] == "recognition_tagging" and "quickstart_vilt" in tags_step["checkpoint_path"]
