"""CPU fast paths: same predictions as fp32 PyTorch (ONNX Runtime) or close to them (int8)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animesion.config.inference import InferenceConfig
from animesion.config.train import TrainConfig
from animesion.errors import ConfigError
from animesion.inference import make_sample_images, predict_folder
from animesion.inference.fast import fast_path_names, make_fast
from animesion.training import load_checkpoint
from animesion.training.checkpoint import Checkpoint


@pytest.fixture(scope="module")
def ckpt(tiny_run):
    return load_checkpoint(tiny_run.best_checkpoint)


@pytest.fixture(scope="module")
def images(ckpt):
    torch.manual_seed(0)
    size = ckpt.config.image_size
    return torch.randn(16, 3, size, size)


def test_fast_path_choices_are_validated():
    assert fast_path_names() == ["none", "int8", "onnx"]
    assert InferenceConfig().fast_path == "none"  # no accuracy trade unless asked
    with pytest.raises(ConfigError, match="fast_path"):
        InferenceConfig(fast_path="tensorrt")


def test_none_is_the_checkpoint_itself(ckpt):
    assert make_fast(ckpt, "none") is ckpt


def test_int8_quantises_linear_layers_and_keeps_predictions(ckpt, images):
    fast = make_fast(ckpt, "int8")
    assert isinstance(ckpt.model.classifier[1], nn.Linear)  # the original is untouched
    assert not any(type(m) is nn.Linear for m in fast.model.modules())
    with torch.inference_mode():
        ref, out = ckpt.model(images)["logits"], fast.model(images)["logits"]
    assert out.shape == ref.shape
    assert torch.nn.functional.cosine_similarity(out, ref, dim=1).min() > 0.99
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.9


def test_onnx_runtime_matches_pytorch(ckpt, images, tmp_path):
    fast = make_fast(ckpt, "onnx")
    with torch.inference_mode():
        torch.testing.assert_close(fast.model(images)["logits"], ckpt.model(images)["logits"], rtol=1e-3,
                                   atol=1e-4)
    folder = make_sample_images(tmp_path / "imgs", count=4)
    plain = predict_folder(ckpt, folder, batch_size=3, top_k=2, progress=False)
    quick = predict_folder(fast, folder, batch_size=3, top_k=2, progress=False)
    assert quick.table["top1"].tolist() == plain.table["top1"].tolist()
    assert quick.failures["file"].tolist() == plain.failures["file"].tolist()


def test_vision_and_tags_checkpoints_are_refused():
    ckpt = Checkpoint(nn.Identity(), TrainConfig(model_name="Ti_16", multimodal=True), ["a", "b"])
    with pytest.raises(ConfigError, match="image-only"):
        make_fast(ckpt, "onnx")
