"""Self-supervised pretraining (``python -m animesion.pretrain``) and the backbones 03 starts from."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open

from animesion.config.pretrain import PretrainConfig
from animesion.config.train import TrainConfig
from animesion.errors import CheckpointError, ConfigError
from animesion.models.backbones import BACKBONES
from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.pretrain.__main__ import main
from animesion.pretrain.clusters import spherical_kmeans
from animesion.pretrain.loop import pretrain
from animesion.pretrain.simclr import nt_xent


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    """12 random pictures and a corrupt file (skipped)."""
    folder = tmp_path_factory.mktemp("unlabelled")
    rng = np.random.default_rng(0)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8not a jpeg")
    return folder


@pytest.fixture(scope="module")
def backbone_file(unlabelled, tmp_path_factory):
    """A resnet18 backbone from one epoch of SimCLR on the unlabelled pictures."""
    out = tmp_path_factory.mktemp("out") / "faces.safetensors"
    config = PretrainConfig(images_path=str(unlabelled), output_path=str(out), image_size=32, batch_size=4,
                            no_epochs=1, num_workers=0)
    return pretrain(config, progress=False)


def test_pretraining_writes_the_backbone_without_its_classifier_in_half_precision(backbone_file, caplog):
    result = backbone_file
    assert result.images == 13 and len(result.losses) == 1 and np.isfinite(result.losses[0])
    with safe_open(str(result.path), "pt") as f:
        keys, meta = set(f.keys()), f.metadata()
        assert f.get_tensor("conv1.weight").dtype == torch.float16
    expected = {k for k in create_model(ModelSpec(model_name="resnet18", num_classes=3)).net.state_dict()
                if not k.startswith("fc.")}
    assert keys == expected
    assert meta["method"] == "simclr" and json.loads(meta["recipe"])["temperature"] == 0.2


def test_pretraining_continues_from_a_backbone_and_says_so_in_its_header(unlabelled, backbone_file, tmp_path):
    config = PretrainConfig(images_path=str(unlabelled), output_path=str(tmp_path / "more.safetensors"),
                            image_size=32, batch_size=4, no_epochs=1, num_workers=0, learning_rate=1e-12,
                            backbone=str(backbone_file.path))
    more = pretrain(config, progress=False)
    with safe_open(str(backbone_file.path), "pt") as f:
        start, start_meta = f.get_tensor("layer3.0.conv1.weight"), f.metadata()
    with safe_open(str(more.path), "pt") as f:
        assert torch.allclose(f.get_tensor("layer3.0.conv1.weight").float(), start.float(), atol=1e-3)
        meta = f.metadata()
    assert json.loads(meta["start"]) == start_meta  # the first pretraining's recipe and losses travel on
    assert json.loads(meta["recipe"])["backbone"] == str(backbone_file.path)


def test_a_run_starts_from_the_backbone_and_a_checkpoint_needs_no_file(backbone_file, tmp_path):
    from animesion.models.checkpoint import load_checkpoint, save_checkpoint, weights_of

    spec = ModelSpec(model_name="resnet18", num_classes=3, image_size=32, backbone=str(backbone_file.path))
    model = create_model(spec)
    with safe_open(str(backbone_file.path), "pt") as f:
        stored = f.get_tensor("layer1.0.conv1.weight").float()
    assert torch.equal(model.net.layer1[0].conv1.weight.data, stored)
    assert model.net.fc.out_features == 3
    saved = save_checkpoint(tmp_path / "best.safetensors", weights_of(model), spec, ["a", "b", "c"], {})
    backbone_file.path.rename(backbone_file.path.with_suffix(".moved"))
    try:
        loaded = load_checkpoint(saved)
    finally:
        backbone_file.path.with_suffix(".moved").rename(backbone_file.path)
    assert torch.equal(loaded.model.net.layer1[0].conv1.weight.data, stored)


def test_a_missing_or_foreign_backbone_file_is_one_sentence(tmp_path):
    with pytest.raises(CheckpointError, match="no weights file at"):
        create_model(ModelSpec(model_name="resnet18", num_classes=3, backbone=str(tmp_path / "none.safetensors")))
    from safetensors.torch import save_file

    save_file({"conv1.weight": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="does not fit this model"):
        create_model(ModelSpec(model_name="resnet18", num_classes=3, backbone=str(tmp_path / "other.safetensors")))


def test_a_run_passes_its_backbone_to_the_model_and_older_runs_had_none(backbone_file):
    path = str(backbone_file.path)
    assert TrainConfig(model_name="resnet18", backbone=path).model_spec(3).backbone == path
    assert TrainConfig(model_name="resnet18", backbone="").model_spec(3).backbone == ""
    assert TrainConfig.legacy_values()["backbone"] == ""  # earlier runs trained from random weights
    with pytest.raises(ConfigError, match="cannot"):
        TrainConfig(model_name="resnet18", backbone=path, pretrained=True).model_spec(3)
    with pytest.raises(ConfigError, match="cannot"):
        TrainConfig(model_name="S_16", backbone=path).model_spec(3)


def test_nt_xent_is_low_when_the_two_views_agree():
    torch.manual_seed(0)
    first = torch.randn(16, 8)
    agree = nt_xent(first, first + 0.01 * torch.randn(16, 8), 0.2)
    disagree = nt_xent(first, torch.randn(16, 8), 0.2)
    assert agree < 0.5 < disagree


def test_every_pretext_a_config_names_has_its_code():
    from animesion.config.pretrain import PRETEXTS
    from animesion.pretrain.pretexts import BUILDERS

    assert BUILDERS.names() == PRETEXTS.names() == ["simclr", "clusters"]
    with pytest.raises(ConfigError, match="simclr, clusters"):
        PretrainConfig(images_path="x", method="byol")
    # each method writes its own file unless told: continuing SimCLR's never overwrites its start
    clusters = PretrainConfig(images_path="x", method="clusters")
    assert clusters.output_file == "outputs/pretrained/faces_clusters.safetensors"
    assert PretrainConfig(images_path="x", output_path="a.safetensors").output_file == "a.safetensors"


def test_spherical_kmeans_finds_the_groups_of_unit_vectors():
    torch.manual_seed(0)
    centres = torch.nn.functional.normalize(torch.randn(3, 16), dim=-1)
    truth = torch.arange(3).repeat_interleave(20)
    points = torch.nn.functional.normalize(centres[truth] + 0.05 * torch.randn(60, 16), dim=-1)
    found = spherical_kmeans(points, 3, seed=0)
    # the same partition, whatever the groups' numbers
    assert all(len(set(found[truth == t].tolist())) == 1 for t in range(3)) and len(set(found.tolist())) == 3


def test_pseudo_characters_continue_a_backbone_and_draw_their_groups_again(unlabelled, backbone_file, tmp_path,
                                                                           caplog):
    caplog.set_level(logging.INFO, logger="animesion")
    config = PretrainConfig(method="clusters", images_path=str(unlabelled), backbone=str(backbone_file.path),
                            output_path=str(tmp_path / "groups.safetensors"), image_size=32, batch_size=4,
                            no_epochs=3, recluster_every=2, num_workers=0)
    result = pretrain(config, progress=False)
    drawn = [r.getMessage() for r in caplog.records if r.getMessage().startswith("clusters:")]
    # drawn at epochs 0 and 2; the broken file is left out of the groups, and said by name
    assert len(drawn) == 2 and all(line.startswith("clusters: 12 pictures in ") for line in drawn)
    assert any("broken.jpg" in r.getMessage() for r in caplog.records)
    assert len(result.losses) == 3 and all(np.isfinite(result.losses))
    with safe_open(str(result.path), "pt") as f:
        meta, keys = f.metadata(), set(f.keys())
    assert meta["method"] == "clusters" and json.loads(meta["recipe"])["clusters"] == 1000
    assert json.loads(meta["start"])["method"] == "simclr"
    assert not any(k.startswith(("fc.", "classifier")) for k in keys)


def test_the_command_line_says_what_is_missing(capsys, caplog):
    caplog.set_level(logging.WARNING)
    assert main([]) == 2
    assert "give a folder of pictures" in capsys.readouterr().err


def test_auto_starts_resnet18_from_the_package_backbone_and_other_models_as_before():
    assert TrainConfig(model_name="resnet18").model_spec(3).backbone == "faces-simclr-resnet18"
    assert TrainConfig(model_name="resnet18", pretrained=True).model_spec(3).backbone == ""  # ImageNet wins
    for model_name in ("shallow", "resnet50", "efficientnetb0", "S_16"):
        assert TrainConfig(model_name=model_name).model_spec(3).backbone == ""
    shipped = BACKBONES.get("faces-simclr-resnet18").path
    model = create_model(TrainConfig(model_name="resnet18").model_spec(4))
    with safe_open(str(shipped), "pt") as f:
        assert torch.equal(model.net.layer4[1].conv2.weight.data, f.get_tensor("layer4.1.conv2.weight").float())


def test_auto_keeps_the_folders_of_runs_that_start_as_before():
    from animesion.training.run_dir import run_name

    for model_name in ("shallow", "S_16"):  # 'auto' is no backbone for them: the folder of earlier versions
        assert run_name(TrainConfig(model_name=model_name)) == run_name(TrainConfig(model_name=model_name, backbone=""))
    assert run_name(TrainConfig(model_name="resnet18")) != run_name(TrainConfig(model_name="resnet18", backbone=""))


def test_a_spec_names_the_backbone_it_starts_from():
    with pytest.raises(ConfigError, match="a run's choice"):
        ModelSpec(model_name="resnet18", backbone="auto")
    with pytest.raises(ConfigError, match="not for model_name='resnet50'"):
        ModelSpec(model_name="resnet50", backbone="faces-simclr-resnet18")


def test_the_shipped_backbone_is_small_half_precision_and_says_how_it_was_made():
    shipped = BACKBONES.get("faces-simclr-resnet18").path
    assert shipped.stat().st_size <= 25 * 2**20
    with safe_open(str(shipped), "pt") as f:
        meta = f.metadata()
        assert f.get_tensor("conv1.weight").dtype == torch.float16 and not any(k.startswith("fc.") for k in f.keys())
    recipe = json.loads(meta["recipe"])
    assert meta["method"] == "simclr" and int(meta["images"]) == 20000
    assert recipe["model_name"] == "resnet18" and recipe["image_size"] == 64
