"""Checkpoints written by earlier versions keep loading and predict the same through 05 (tests/fixtures)."""

from __future__ import annotations

import json
import lzma
import shutil
from pathlib import Path

import pandas as pd
import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from animesion.config.inference import InferenceConfig
from animesion.inference.run import run_inference
from animesion.models.checkpoint import FORMAT_1, load_checkpoint, read_spec

FIXTURES = Path(__file__).parent / "fixtures" / "legacy_checkpoints"


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> dict[str, Path]:
    """The two fixture checkpoints, the ViT one decompressed."""
    folder = tmp_path_factory.mktemp("legacy")
    shutil.copy(FIXTURES / "shallow.safetensors", folder / "shallow.safetensors")
    (folder / "vit_ifa.safetensors").write_bytes(lzma.decompress((FIXTURES / "vit_ifa.safetensors.xz").read_bytes()))
    return {"shallow": folder / "shallow.safetensors", "vit_ifa": folder / "vit_ifa.safetensors"}


def _header(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return f.metadata()


def _predict(path: Path, tmp_path: Path) -> pd.DataFrame:
    config = InferenceConfig(checkpoint_path=str(path), test_path=str(FIXTURES / "images"), batch_size=4,
                             results_dir=str(tmp_path))
    run = run_inference(config, progress=False)
    assert run.result.failures["file"].map(lambda f: Path(f).name).tolist() == ["not_an_image.txt"]
    table = pd.read_csv(run.out_dir / "predictions.csv")
    table["file"] = table["file"].map(lambda f: Path(f).name)
    return table


@pytest.mark.parametrize("name", ["shallow", "vit_ifa"])
def test_first_format_checkpoints_predict_as_before(legacy, name, tmp_path):
    assert _header(legacy[name])["format"] == FORMAT_1  # really the old format
    expected = pd.read_csv(FIXTURES / f"{name}_predictions.csv")
    got = _predict(legacy[name], tmp_path)
    ranks = [f"top{r}" for r in range(1, 6)]
    assert got[["file", *ranks]].equals(expected[["file", *ranks]])
    probs = [f"{r}_prob" for r in ranks]
    assert (got[probs].to_numpy() - expected[probs].to_numpy()).__abs__().max() < 1e-4


def test_the_spec_of_an_old_checkpoint_is_read_from_its_training_config(legacy):
    spec = read_spec(legacy["vit_ifa"])
    assert (spec.model_name, spec.num_classes, spec.image_size, spec.interm_features_fc) == ("Ti_16", 6, 32, True)
    assert not spec.multimodal and not spec.masked_tag_head


def test_a_training_config_that_no_longer_validates_still_loads(legacy, tmp_path):
    """A renamed option and a value today's rules refuse: the checkpoint still evaluates and predicts."""
    meta = _header(legacy["shallow"])
    config = json.loads(meta["config"])
    config["learning_rate"] = -1.0  # refused by today's TrainConfig
    config["an_option_renamed_since"] = True  # unknown to today's TrainConfig
    changed = tmp_path / "changed.safetensors"
    save_file(load_file(str(legacy["shallow"])), str(changed), metadata={**meta, "config": json.dumps(config)})
    ckpt = load_checkpoint(changed)
    assert ckpt.training["an_option_renamed_since"] is True and ckpt.spec.model_name == "shallow"
    expected = pd.read_csv(FIXTURES / "shallow_predictions.csv")
    assert _predict(changed, tmp_path / "out")["top1"].tolist() == expected["top1"].tolist()
