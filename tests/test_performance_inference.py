"""CPU fast paths: same predictions as fp32 PyTorch (ONNX Runtime) or close to them (int8)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from animesion.config.inference import InferenceConfig
from animesion.errors import ConfigError
from animesion.inference.samples import make_sample_images
from animesion.models.checkpoint import load_checkpoint
from animesion.models.spec import ModelSpec
from animesion.prediction.fast import fast_path_names, make_fast
from animesion.prediction.files import predict_folder
from animesion.prediction.predictor import Predictor


@pytest.fixture(scope="module")
def predictor(tiny_run):
    return Predictor.from_checkpoint(load_checkpoint(tiny_run.best_checkpoint), "cpu")


@pytest.fixture(scope="module")
def images(predictor):
    torch.manual_seed(0)
    size = predictor.spec.image_size
    return torch.randn(16, 3, size, size)


def test_fast_path_choices_are_validated():
    assert fast_path_names() == ["none", "int8", "onnx"]
    assert InferenceConfig().fast_path == "none"  # no accuracy trade unless asked
    assert InferenceConfig(fast_path="onnx").fast_path == "onnx"
    with pytest.raises(ConfigError, match="fast_path='tensorrt' is not allowed; choose one of: none, int8, onnx"):
        InferenceConfig(fast_path="tensorrt")


def test_none_is_the_predictor_itself(predictor):
    assert make_fast(predictor, "none") is predictor


def test_int8_quantises_linear_layers_and_keeps_predictions(predictor, images):
    fast = make_fast(predictor, "int8")
    assert isinstance(predictor.model.classifier[1], nn.Linear)  # the original is untouched
    assert not any(type(m) is nn.Linear for m in fast.model.modules())
    ref, out = predictor.forward(images)["logits"], fast.forward(images)["logits"]
    assert out.shape == ref.shape
    assert torch.nn.functional.cosine_similarity(out, ref, dim=1).min() > 0.99
    assert (out.argmax(1) == ref.argmax(1)).float().mean() >= 0.9


def test_onnx_runtime_matches_pytorch(predictor, images, tmp_path):
    fast = make_fast(predictor, "onnx")
    for name in ("logits", "embedding"):  # the embedding too: enrolment and "unknown" work on this path
        torch.testing.assert_close(fast.forward(images)[name], predictor.forward(images)[name], rtol=1e-3,
                                   atol=1e-4)
    folder = make_sample_images(tmp_path / "imgs", count=4)
    plain = predict_folder(predictor, folder, batch_size=3, top_k=2, progress=False)
    quick = predict_folder(fast, folder, batch_size=3, top_k=2, progress=False)
    assert quick.table["top1"].tolist() == plain.table["top1"].tolist()
    assert quick.failures["file"].tolist() == plain.failures["file"].tolist()


def test_vision_and_tags_checkpoints_are_refused():
    spec = ModelSpec(model_name="Ti_16", num_classes=2, image_size=32, multimodal=True, vocab_size=10)
    with pytest.raises(ConfigError, match="image-only"):
        make_fast(Predictor(nn.Identity(), spec, ["a", "b"], device="cpu"), "onnx")


def test_a_fast_path_without_embeddings_says_so_and_never_answers_unknown(tiny_run, tmp_path, monkeypatch):
    """A registry entry says what it gives: a path without embeddings drops the open set, and 05 notes it."""
    from animesion.inference.run import run_inference
    from animesion.prediction.fast import FAST_PATHS, FastPath

    monkeypatch.setitem(FAST_PATHS._items, "logits_only", FastPath(lambda model, size: model, gives_embeddings=False))
    monkeypatch.setattr("animesion.config.inference.fast_path_names", lambda: ["none", "logits_only"])
    folder = make_sample_images(tmp_path / "imgs", count=3)
    config = InferenceConfig(checkpoint_path=str(tiny_run.best_checkpoint), test_path=str(folder),
                             fast_path="logits_only", results_dir=str(tmp_path), save_results=False)
    run = run_inference(config, progress=False)
    assert run.predictor.open_set is None and "gives no embeddings" in run.notes[0]
    assert "score" not in run.result.table and "unknown" not in set(run.result.table["top1"])
    with pytest.raises(ConfigError, match="gallery_path needs embeddings"):
        run_inference(config.replace(gallery_path=str(folder)), progress=False)
