"""The ``parameters/train_*.yaml`` recipes: valid, and each architecture family trains with them.

The recipes are full-size paper runs (DAF:re at 128 px, ImageNet weights). Here each family runs with
its recipe's own settings except the sizes: the tiny synthetic set, 32 px, one short epoch, no
download, and the family's smallest member in place of ViT-B (same code path, a tenth of the time).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from animesion.config.train import TrainConfig
from animesion.paths import project_root
from animesion.strict import load_yaml
from animesion.training import train
from animesion.workbook import run_notebook

RECIPES = sorted((project_root() / "parameters").glob("train_*.yaml"))
FAMILIES = {
    "shallow": "train_shallow_dafre.yaml",
    "resnet": "train_resnet18_dafre.yaml",
    "efficientnet": "train_efficientnetb0_dafre.yaml",
    "vit": "train_vit_b16_dafre.yaml",
    "vit_ifa": "train_vit_b16_ifa_dafre.yaml",
}
SMALLEST = {"B_16": "Ti_16", "B_32": "S_32", "L_16": "Ti_16", "L_32": "S_32"}
EXTRA = {"vit_ifa": {"exclusion_loss": True}}  # the IFA run also exercises the exclusion term end to end


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_is_a_valid_train_config(recipe):
    config = TrainConfig.from_yaml(recipe)
    assert config.image_size % 16 == 0 and config.no_epochs > 1


def test_paper_recipe_is_vit_b16_ifa_on_dafre_faces_at_128():
    config = TrainConfig.from_yaml(project_root() / "parameters" / FAMILIES["vit_ifa"])
    assert (config.model_name, config.dataset_name, config.image_size) == ("B_16", "danbooruFaces", 128)
    assert config.interm_features_fc and config.pretrained
    transfer = TrainConfig.from_yaml(project_root() / "parameters" / "train_vit_b16_ifa_transfer_moeimouto.yaml")
    assert transfer.transfer_learning
    assert transfer.checkpoint_path == f"{config.results_dir}/{config.run_name}/best.safetensors"


def _tiny(family: str, tiny_dataset: Path, results: Path) -> tuple[Path, dict]:
    """The family's recipe file and the overrides that make it a few-second run."""
    recipe = project_root() / "parameters" / FAMILIES[family]
    model_name = load_yaml(recipe)["model_name"]
    tiny = dict(dataset_name="synthetic", dataset_path=str(tiny_dataset), results_dir=str(results), image_size=32,
                batch_size=16, no_epochs=1, warmup_steps=1, log_freq=1, debugging=True, no_cpu_workers=0,
                pretrained=False, model_name=SMALLEST.get(model_name, model_name), **EXTRA.get(family, {}))
    return recipe, tiny


def _check_run(family: str, recipe: Path, results: Path) -> Path:
    """The run folder of the recipe: metrics, checkpoint, and the recipe's own settings in params.yaml."""
    values = load_yaml(recipe)
    run = results / values["run_name"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test_samples"] > 0 and 0.0 <= metrics["test_top1"] <= 100.0
    params = load_yaml(run / "params.yaml")
    assert params["interm_features_fc"] == values.get("interm_features_fc", False)
    assert params["exclusion_loss"] == EXTRA.get(family, {}).get("exclusion_loss", False)
    assert params["learning_rate"] == values["learning_rate"]  # the recipe's own settings, not the defaults
    assert (run / "best.safetensors").is_file()
    return run


@pytest.mark.parametrize("family", ["resnet", "efficientnet", "vit"])
def test_recipe_trains(family, tiny_dataset, tmp_path):
    """These families run through ``train()`` in this process: the notebook would only add a kernel start
    (most of a papermill run's time); the notebook itself runs with the recipes of the two tests below."""
    recipe, tiny = _tiny(family, tiny_dataset, tmp_path)
    train(TrainConfig.from_yaml(recipe, **tiny), progress=False)
    _check_run(family, recipe, tmp_path)


@pytest.mark.notebook
def test_paper_recipe_trains_under_papermill(tiny_dataset, tmp_path):
    recipe, tiny = _tiny("vit_ifa", tiny_dataset, tmp_path)
    run_notebook("03_train", tiny, parameters_file=recipe, output=tmp_path / "03_train.ipynb", progress=False)
    _check_run("vit_ifa", recipe, tmp_path)


@pytest.mark.notebook
def test_shallow_recipe_under_papermill_then_onnx_export_in_05_inference(tiny_dataset, tmp_path):
    recipe, tiny = _tiny("shallow", tiny_dataset, tmp_path)
    run_notebook("03_train", tiny, parameters_file=recipe, output=tmp_path / "03_train.ipynb", progress=False)
    run = _check_run("shallow", recipe, tmp_path)
    out = run_notebook("05_inference", {"checkpoint_path": str(run / "best.safetensors"), "results_dir": str(tmp_path),
                                        "test_path": str(tiny_dataset / "faces"), "export_onnx": True,
                                        "save_results": False}, output=tmp_path / "05.ipynb", progress=False)
    assert (tmp_path / "inference" / "model.onnx").is_file()
    printed = "".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    assert "ONNX Runtime gives the same top-5 on 100% of 32 images" in printed
