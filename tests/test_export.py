"""Checkpoints load without pickle; models export to ONNX and ONNX Runtime ranks classes the same way."""

from __future__ import annotations

import pickle

import onnx
import torch
from timm.models.vision_transformer import VisionTransformer

from animesion.config.train import TrainConfig
from animesion.export import export_onnx, onnx_parity
from animesion.models.checkpoint import load_checkpoint, read_checkpoint_meta, save_checkpoint
from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.models.vit import ViTClassifier
from animesion.prediction.predictor import Predictor


def test_checkpoint_is_safetensors_with_metadata_and_loads_without_pickle(tmp_path, monkeypatch):
    config = TrainConfig(model_name="Ti_16", image_size=32, interm_features_fc=True)
    model = create_model(config.model_spec(3))
    path = save_checkpoint(tmp_path / "ifa.safetensors", model, config.model_spec(3), ["aki", "bea", "cho"],
                           config.to_dict())
    assert path.read_bytes()[8:9] == b"{"  # safetensors: 8-byte header length, then a JSON header

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint must load without unpickling")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    meta = read_checkpoint_meta(path)
    assert meta["class_names"] == ["aki", "bea", "cho"] and meta["model_spec"]["interm_features_fc"] is True
    assert meta["training"]["model_name"] == "Ti_16"  # the run's parameters ride along
    ckpt = load_checkpoint(path)
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(ckpt.model(images)["logits"], model.eval()(images)["logits"])


def _tiny_vit_ifa() -> ViTClassifier:
    """A 2-block ViT with the IFA head: the same code as Ti_16, a sixth of the tracing time."""
    trunk = VisionTransformer(img_size=32, patch_size=16, embed_dim=48, depth=2, num_heads=3, num_classes=0)
    return ViTClassifier(vit=trunk, num_classes=8, ifa=True)


def test_onnx_export_gives_the_same_top5(tmp_path):
    torch.manual_seed(0)
    model = _tiny_vit_ifa().eval()
    path = export_onnx(model, tmp_path / "vit_ifa.onnx", image_size=32)
    graph = onnx.load(str(path)).graph
    assert [i.name for i in graph.input] == ["images"] and [o.name for o in graph.output] == ["logits", "embedding"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # the batch size is symbolic
    predictor = Predictor(model, ModelSpec(model_name="Ti_16", num_classes=8, image_size=32), list("abcdefgh"),
                          device="cpu")
    parity = onnx_parity(predictor, path, torch.randn(5, 3, 32, 32), top_k=5)  # another batch size than exported
    assert parity.ok and parity.images == 5 and parity.max_abs_diff < 1e-4
    assert "the same top-5 on 100% of 5 images" in str(parity)
