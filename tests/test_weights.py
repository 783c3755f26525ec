"""Pretrained weights (local file, offline message), checkpoints, transfer learning and partial loading."""

from __future__ import annotations

import time

import pytest
import torch
from safetensors.torch import save_file
from timm.layers import resample_abs_pos_embed
from timm.models.vision_transformer import VisionTransformer

from animesion.config.train import TrainConfig
from animesion.errors import CheckpointError, ConfigError
from animesion.models.checkpoint import save_checkpoint
from animesion.models.factory import create_model
from animesion.models.partial import PARTIAL_MODES
from animesion.training.weights import load_initial_weights


def _config(**values) -> TrainConfig:
    return TrainConfig(**{"model_name": "Ti_16", "image_size": 32, **values})


@pytest.fixture(scope="module")
def timm_ti16_224(tmp_path_factory):
    """A random ViT-Ti/16 at 224 px saved like timm's ``model.safetensors`` (with an in21k-sized head)."""
    torch.manual_seed(1)
    vit = VisionTransformer(img_size=224, patch_size=16, embed_dim=192, depth=12, num_heads=3, num_classes=21843)
    path = tmp_path_factory.mktemp("weights") / "model.safetensors"
    save_file({k: v.contiguous() for k, v in vit.state_dict().items()}, str(path))
    return path, vit.state_dict()


@pytest.mark.parametrize("image_size", [32, 128])
def test_pretrained_vit_from_local_file_resamples_position_embeddings(timm_ti16_224, image_size):
    path, reference = timm_ti16_224
    model = create_model(_config(image_size=image_size, pretrained=True, pretrained_path=str(path)).model_spec(5))
    grid = image_size // 16
    expected = resample_abs_pos_embed(reference["pos_embed"], new_size=[grid, grid], num_prefix_tokens=1)
    assert model.vit.pos_embed.shape == (1, 1 + grid * grid, 192)
    torch.testing.assert_close(model.vit.pos_embed.data, expected, rtol=1e-5, atol=1e-6)
    # the class token's embedding is carried over unchanged, the patch grid is interpolated
    torch.testing.assert_close(model.vit.pos_embed.data[:, 0], reference["pos_embed"][:, 0])
    assert not torch.allclose(model.vit.pos_embed.data[:, 1:4], reference["pos_embed"][:, 1:4])
    assert torch.equal(model.vit.blocks[11].attn.qkv.weight, reference["blocks.11.attn.qkv.weight"])
    assert torch.equal(model.vit.patch_embed.proj.weight, reference["patch_embed.proj.weight"])
    assert model.head.weight.shape == (5, 192)  # the ImageNet classifier is dropped


def test_pretrained_cnn_from_local_file(tmp_path):
    import torchvision

    torch.manual_seed(2)
    net = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(net.state_dict(), path)
    model = create_model(TrainConfig(model_name="resnet18", pretrained=True, pretrained_path=str(path)).model_spec(4))
    assert torch.equal(model.net.layer3[1].conv2.weight, net.layer3[1].conv2.weight)
    assert model.net.fc.out_features == 4


@pytest.mark.parametrize(("name", "needed"), [
    ("B_16", "huggingface.co/timm/vit_base_patch16_224.orig_in21k/resolve/main/model.safetensors"),
    ("S_32", "huggingface.co/timm/vit_small_patch32_224.augreg_in21k/resolve/main/model.safetensors"),
    ("resnet50", "download.pytorch.org/models/resnet50-11ad3fa6.pth"),
])
def test_missing_pretrained_weights_offline_is_one_sentence(name, needed, monkeypatch, tmp_path):
    monkeypatch.setenv("ANIMESION_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))  # an empty cache
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    start = time.perf_counter()
    with pytest.raises(CheckpointError) as err:
        create_model(TrainConfig(model_name=name, image_size=32, pretrained=True).model_spec(3))
    assert time.perf_counter() - start < 15  # fails fast: no download attempt
    message = str(err.value)
    assert needed in message and "pretrained_path" in message
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0


def test_missing_local_pretrained_file_names_it(tmp_path):
    with pytest.raises(CheckpointError, match="pretrained_path '.*nowhere.safetensors' does not exist"):
        create_model(_config(pretrained=True, pretrained_path=str(tmp_path / "nowhere.safetensors")).model_spec(3))


def test_wrong_pretrained_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"pos_embed": torch.zeros(1, 5, 64), "blocks.0.norm1.weight": torch.ones(64)}, str(path))
    with pytest.raises(CheckpointError, match="does not fit|lacks"):
        create_model(_config(pretrained=True, pretrained_path=str(path)).model_spec(3))


@pytest.fixture(scope="module")
def trained_ti16(tmp_path_factory):
    """A Ti_16 '10-class' checkpoint at 32 px in this workbook's format, and its weights."""
    torch.manual_seed(3)
    config = _config()
    model = create_model(config.model_spec(10))
    for p in model.parameters():  # move every weight away from its initialisation
        p.data.add_(torch.randn_like(p) * 0.1)
    path = save_checkpoint(tmp_path_factory.mktemp("ckpt") / "ten.safetensors", model, config.model_spec(10),
                           [f"c{i}" for i in range(10)], config.to_dict())
    return path, {k: v.clone() for k, v in model.state_dict().items()}


def test_continue_from_checkpoint_loads_everything(trained_ti16):
    path, weights = trained_ti16
    config = _config(checkpoint_path=str(path))
    model = create_model(config.model_spec(10))
    report = load_initial_weights(model, config)
    assert len(report.loaded) == len(weights) and not (report.missing or report.unexpected or report.reset)
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())


def test_transfer_10_to_5_classes_resets_only_the_head(trained_ti16):
    path, weights = trained_ti16
    config = _config(checkpoint_path=str(path), transfer_learning=True)
    model = create_model(config.model_spec(5))
    fresh_head = model.head.weight.clone()
    report = load_initial_weights(model, config)
    assert sorted(report.reset) == ["head.bias", "head.weight"]
    assert torch.equal(model.head.weight, fresh_head) and model.head.weight.shape == (5, 192)
    assert torch.equal(model.vit.blocks[4].mlp.fc2.weight, weights["vit.blocks.4.mlp.fc2.weight"])
    assert "2 weights have other shapes in the checkpoint and keep their fresh initialisation" in str(report)


def test_other_class_count_without_transfer_is_refused(trained_ti16):
    path, _ = trained_ti16
    config = _config(checkpoint_path=str(path))
    with pytest.raises(CheckpointError, match="set transfer_learning=True"):
        load_initial_weights(create_model(config.model_spec(5)), config)


def test_checkpoint_at_another_image_size_is_resampled(trained_ti16):
    path, weights = trained_ti16
    config = _config(image_size=64, checkpoint_path=str(path))
    model = create_model(config.model_spec(10))
    report = load_initial_weights(model, config)
    assert report.resampled == ["vit.pos_embed"] and not report.reset
    expected = resample_abs_pos_embed(weights["vit.pos_embed"], new_size=[4, 4], num_prefix_tokens=1)
    torch.testing.assert_close(model.vit.pos_embed.data, expected)


# What each mode of the original ``load_partial`` loads (written out here, independently of the registry).
PARTS_OF_MODE = {
    "full_tokenizer": {"patch", "pos", "cls"},
    "patchprojection": {"patch"},
    "posembeddings": {"pos"},
    "clstoken": {"cls"},
    "patchandposembeddings": {"patch", "pos"},
    "patchandclstoken": {"patch", "cls"},
    "posembeddingsandclstoken": {"pos", "cls"},
}


@pytest.mark.parametrize("mode", PARTIAL_MODES.names())
def test_each_load_partial_mode_loads_only_its_parts(trained_ti16, mode):
    path, weights = trained_ti16
    config = _config(checkpoint_path=str(path), load_partial_mode=mode)
    model = create_model(config.model_spec(5))  # other classes: the head is not loaded anyway
    before = {k: v.clone() for k, v in model.state_dict().items()}
    report = load_initial_weights(model, config)
    prefixes = PARTIAL_MODES.get(mode)
    after = model.state_dict()
    loaded = sorted(k for k in after if k.startswith(prefixes))
    assert sorted(report.loaded) == loaded and loaded
    for key, value in after.items():
        assert torch.equal(value, weights[key] if key in loaded else before[key]), key
    parts = {"patch": "vit.patch_embed.proj.weight", "pos": "vit.pos_embed", "cls": "vit.cls_token"}
    assert {part for part, key in parts.items() if key in loaded} == PARTS_OF_MODE[mode]
    assert f"load_partial_mode='{mode}' loaded {len(loaded)} weights" in str(report)
    assert not report.missing and len(report.left_out) == len(weights) - len(loaded)


def test_partial_mode_needs_a_vit(trained_ti16):
    path, _ = trained_ti16
    config = TrainConfig(model_name="shallow", checkpoint_path=str(path), load_partial_mode="clstoken")
    with pytest.raises(ConfigError, match="parts of a ViT"):
        load_initial_weights(create_model(config.model_spec(5)), config)


def test_pretrained_vit_from_a_warm_hugging_face_cache(timm_ti16_224, monkeypatch, tmp_path):
    """Offline with the file in the HF cache (as a previous online run leaves it): no pretrained_path needed."""
    import huggingface_hub.constants

    path, reference = timm_ti16_224
    repo = tmp_path / "hub" / "models--timm--vit_tiny_patch16_224.augreg_in21k"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "snapshots" / "abc123" / "model.safetensors").symlink_to(path)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    model = create_model(_config(image_size=224, pretrained=True).model_spec(3))
    assert torch.equal(model.vit.pos_embed, reference["pos_embed"])


def test_pretrained_cnn_from_the_torch_hub_cache(monkeypatch, tmp_path):
    import torchvision

    net = torchvision.models.resnet18(weights=None)
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(net.state_dict(), tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = create_model(TrainConfig(model_name="resnet18", pretrained=True).model_spec(4))
    assert torch.equal(model.net.conv1.weight, net.conv1.weight)


def test_download_only_when_the_network_answers(monkeypatch, tmp_path):
    from animesion.models import pretrained

    fetched = tmp_path / "fetched.bin"
    source = pretrained.WeightsSource("x", "https://example.org/x.bin", "example.org", tmp_path / "cached.bin",
                                      "or cache it", lambda: fetched)
    monkeypatch.setattr(pretrained, "network_available", lambda host: True)
    assert pretrained.locate_weights(source) == fetched
    monkeypatch.setattr(pretrained, "network_available", lambda host: False)
    with pytest.raises(CheckpointError, match="download https://example.org/x.bin"):
        pretrained.locate_weights(source)
    (tmp_path / "cached.bin").write_bytes(b"")
    assert pretrained.locate_weights(source) == tmp_path / "cached.bin"  # a warm cache needs no network


def test_checkpoint_of_another_architecture_is_refused(tmp_path):
    shallow = TrainConfig(model_name="shallow")
    path = save_checkpoint(tmp_path / "shallow.safetensors", create_model(shallow.model_spec(6)),
                           shallow.model_spec(6), list("abcdef"), shallow.to_dict())
    config = _config(checkpoint_path=str(path), transfer_learning=True)
    with pytest.raises(CheckpointError, match="no weights that fit model_name='Ti_16'"):
        load_initial_weights(create_model(config.model_spec(6)), config)


def test_transfer_run_reports_what_it_loaded(trained_ti16, tiny_dataset, tmp_path):
    """A whole run that starts from a 10-class checkpoint on the 6-character set, as DAF:re → moeImouto."""
    from animesion.training import train

    path, _ = trained_ti16
    config = TrainConfig(model_name="Ti_16", dataset_path=str(tiny_dataset), results_dir=str(tmp_path), image_size=32,
                         batch_size=16, no_epochs=1, warmup_steps=1, log_freq=1, debugging=True,
                         checkpoint_path=str(path), transfer_learning=True, run_name="transfer")
    result = train(config, progress=False)
    assert "2 weights have other shapes in the checkpoint" in result.metrics["initial_weights"]
    assert "head.weight" in (tmp_path / "transfer" / "train.log").read_text()
