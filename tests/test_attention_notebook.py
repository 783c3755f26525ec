"""06_attention_viz: its config, how it finds a ViT checkpoint and its images, and a headless papermill run."""

from __future__ import annotations

import ast

import nbformat
import pandas as pd
import pytest
from PIL import Image

from animesion.attention import find_vit_checkpoint, pick_images
from animesion.config.attention import QUICKSTART_VIT, AttentionConfig
from animesion.config.train import TrainConfig
from animesion.errors import CheckpointError, ConfigError
from animesion.models.checkpoint import load_checkpoint
from animesion.paths import resolve_path
from animesion.workbook import notebook_path, run_notebook


def test_parameters_cell_is_the_config_defaults():
    nb = nbformat.read(notebook_path("06_attention_viz"), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    values = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body}
    assert values == AttentionConfig.defaults()
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_config_refuses_bad_values():
    with pytest.raises(ConfigError, match="max_images"):
        AttentionConfig(max_images=0)
    with pytest.raises(ConfigError, match="split"):
        AttentionConfig(split="holdout")


def test_quickstart_vit_parameters_train_a_vit():
    config = TrainConfig.from_yaml(resolve_path(QUICKSTART_VIT))
    assert config.model_name == "Ti_16" and config.image_size % 16 == 0 and config.dataset_name == "synthetic"


def test_default_checkpoint_is_the_newest_vit_run(tiny_run, tiny_vit_run):
    # the shallow run is not a ViT: a results_dir holding only it has no ViT run
    shallow_only = AttentionConfig(results_dir=str(tiny_run.run_dir.parent), train_quickstart=False)
    with pytest.raises(CheckpointError, match="No ViT run"):
        find_vit_checkpoint(shallow_only)
    found = find_vit_checkpoint(AttentionConfig(results_dir=str(tiny_vit_run.run_dir.parent)))
    assert found == tiny_vit_run.best_checkpoint


def test_images_from_a_folder_skip_unreadable_files(tiny_vit_run, tmp_path):
    for i in range(3):
        Image.new("RGB", (40, 30), (60 * i, 90, 120)).save(tmp_path / f"pic{i}.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    ckpt = load_checkpoint(tiny_vit_run.best_checkpoint)
    images, labels, problems = pick_images(AttentionConfig(test_path=str(tmp_path), max_images=2), ckpt)
    assert labels == ["pic0.png", "pic1.png"]  # sorted, capped at max_images, broken.jpg first and skipped
    assert len(problems) == 1 and "broken.jpg" in problems[0]
    images, labels, _ = pick_images(AttentionConfig(split="val", max_images=3, seed=1), ckpt)
    assert len(images) == 3 and set(labels) <= set(ckpt.class_names)


@pytest.mark.notebook
def test_notebook_runs_headless_and_saves_per_layer_figures(tiny_vit_run, tmp_path):
    params = {"checkpoint_path": str(tiny_vit_run.best_checkpoint), "results_dir": str(tmp_path), "max_images": 2,
              "layer": 0, "head": 2}
    executed = run_notebook("06_attention_viz", params, output=tmp_path / "06.ipynb", progress=False)
    out_dir = tmp_path / "attention" / "tiny_vit"
    for kind in ("layers", "rollout", "heads", "matrix"):
        assert len(list(out_dir.glob(f"*_{kind}.png"))) == 2
    table = pd.read_csv(out_dir / "attention.csv")
    assert len(table) == 2 and table["top1_prob"].between(0, 1).all()
    nb = nbformat.read(executed, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
