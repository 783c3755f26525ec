"""Speed settings change speed only: same outputs, same gradients, same predictions (no timing asserts)."""

from __future__ import annotations

import pytest
import torch
import torchvision
from timm.layers import use_fused_attn

from animesion import performance
from animesion.config.evaluate import EvaluateConfig
from animesion.config.train import TrainConfig
from animesion.errors import ConfigError
from animesion.evaluation.metrics import confused_pairs
from animesion.models.factory import create_model
from animesion.performance import (
    amp_settings,
    auto_workers,
    is_convolutional,
    prepare_model,
    resolve_workers,
    uses_fused_attention,
)
from animesion.prediction.predictions import Predictions
from benchmarks.reference import ReferenceAttention, to_reference
from benchmarks.timing import PeakMemory, interleaved_rates
from conftest import tiny_train_config


@pytest.mark.parametrize(("cpus", "device", "expected"), [
    (1, "cpu", 0), (2, "cpu", 1), (8, "cpu", 2), (64, "cpu", 8), (1, "cuda", 0), (2, "cuda", 1), (16, "cuda", 8),
])
def test_auto_workers(cpus, device, expected):
    workers = auto_workers(cpus, device)
    assert workers == expected
    assert workers < cpus or workers == 0  # the main process always keeps a core


def test_auto_workers_defaults_to_this_machine():
    assert 0 <= auto_workers() <= max(performance.available_cpus() - 1, 0)


def _train_step(model, images, labels):
    model.zero_grad(set_to_none=True)
    logits = model(images)["logits"]
    torch.nn.functional.cross_entropy(logits, labels).backward()
    return logits.detach(), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def test_channels_last_gives_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    # Random weights: from the shipped backbone (backbone 'auto'), noise images make fp32 gradients that differ by
    # up to 3% of their largest value between the two layouts (measured), too ill-conditioned to compare layouts.
    config = TrainConfig(model_name="resnet18", image_size=64, backbone="")
    plain = create_model(config.model_spec(5))
    fast = prepare_model(create_model(config.model_spec(5)))
    fast.load_state_dict(plain.state_dict())
    assert fast.net.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    images, labels = torch.randn(6, 3, 64, 64), torch.tensor([0, 1, 2, 3, 4, 0])  # BatchNorm needs a few samples
    logits, grads = _train_step(plain, images, labels)
    fast_logits, fast_grads = _train_step(fast, images, labels)
    # fp32 sums taken in another order differ in the last bits only
    torch.testing.assert_close(fast_logits, logits, rtol=1e-3, atol=1e-4)
    for name, grad in grads.items():
        torch.testing.assert_close(fast_grads[name], grad, rtol=1e-3, atol=1e-4, msg=name)


def test_prepare_model_converts_cnns_only():
    vit = create_model(TrainConfig(model_name="Ti_16", image_size=32).model_spec(3))
    assert not is_convolutional(vit) and is_convolutional(create_model(TrainConfig(model_name="shallow").model_spec(3)))
    assert prepare_model(vit) is vit
    assert vit.vit.patch_embed.proj.weight.is_contiguous()  # left in the default layout


def test_compile_without_a_compiler_is_refused(monkeypatch):
    monkeypatch.setattr(performance.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="C\\+\\+ compiler"):
        prepare_model(torchvision.models.resnet18(num_classes=2), compile=True)


def test_amp_is_off_on_cpu():
    amp = amp_settings("cpu")
    assert not amp.enabled and amp.dtype == torch.float32 and not amp.grad_scaler


def test_vits_use_fused_attention_as_timm_decides():
    vit = create_model(TrainConfig(model_name="Ti_16", image_size=32).model_spec(3))
    assert uses_fused_attention(vit) is use_fused_attn()
    assert uses_fused_attention(torchvision.models.resnet18()) is None


def test_reference_vit_computes_the_same_function():
    """The benchmark's naive reference (explicit attention, separate q/k/v) is the same model, only slower."""
    torch.manual_seed(0)
    vit = create_model(TrainConfig(model_name="Ti_16", image_size=32).model_spec(4)).eval()
    ref = to_reference(vit)
    assert all(isinstance(b.attn, ReferenceAttention) for b in ref.vit.blocks)
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ref(images)["logits"], vit(images)["logits"], rtol=1e-4, atol=1e-5)


def test_confused_pairs_counts_only_occurring_pairs_in_order():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 3000])
    top1 = torch.tensor([1, 1, 0, 2, 2, 0, 2, 5])  # 0→1 twice, 1→2 twice, 2→0 and 3000→5 once
    topk = torch.stack([top1, top1], dim=1)
    preds = Predictions(labels, topk, torch.ones(8, 2), torch.arange(8), torch.zeros(8))
    pairs = confused_pairs(preds, [f"c{i}" for i in range(3263)], top=3)
    assert list(zip(pairs["true"], pairs["predicted"], pairs["count"])) == [
        ("c0", "c1", 2), ("c1", "c2", 2), ("c2", "c0", 1)]


def test_interleaved_rates_count_items_per_second():
    rates = interleaved_rates({"a": lambda: 10, "b": lambda: 20}, rounds=3, device=torch.device("cpu"))
    assert rates["a"].rounds == 3 and rates["b"].best > 0 and rates["a"].best >= rates["a"].median


def test_peak_memory_sees_a_large_allocation():
    with PeakMemory(torch.device("cpu")) as peak:
        block = torch.ones(50_000_000)  # 191 MiB, touched
        del block
    if peak.mib is None:
        pytest.skip("no /proc RSS high-water mark on this platform")
    assert 150 < peak.mib < 400


def test_minus_one_workers_resolves_to_auto_workers():
    assert resolve_workers(-1, "cpu") == auto_workers(device_type="cpu")
    assert resolve_workers(-1, "cuda") == auto_workers(device_type="cuda")
    assert resolve_workers(3, "cpu") == 3 and resolve_workers(0, "cuda") == 0  # explicit counts are kept
    assert resolve_workers(-1, "cpu", processes=performance.available_cpus()) == 0  # one core per process
    with pytest.raises(ConfigError, match="no_cpu_workers must be -1"):
        TrainConfig(no_cpu_workers=-2)
    with pytest.raises(ConfigError, match="no_cpu_workers must be -1"):
        EvaluateConfig(no_cpu_workers=-2)
    assert TrainConfig().no_cpu_workers == EvaluateConfig().no_cpu_workers == -1  # automatic by default


def test_training_prepares_cnns_channels_last_with_the_same_losses(tiny_dataset, tmp_path, monkeypatch):
    """``train()`` resolves the worker count for its device and puts CNNs in channels_last; losses stay the same."""
    from animesion.training import session, trainer

    layouts, worker_requests = [], []

    def spy_prepare(model, **kwargs):
        model = prepare_model(model, **kwargs)
        layouts.append(model.features[0].weight.is_contiguous(memory_format=torch.channels_last))
        return model

    def spy_workers(requested, device_type, processes):
        worker_requests.append((requested, device_type, processes))
        return 0  # no worker processes in tests

    monkeypatch.setattr(session, "prepare_model", spy_prepare)
    monkeypatch.setattr(session, "resolve_workers", spy_workers)
    tiny = dict(no_epochs=1, debugging=True, log_freq=1, no_cpu_workers=-1)  # 3 steps, then validation
    fast = trainer.train(tiny_train_config(tiny_dataset, tmp_path / "a", **tiny), progress=False)
    plain = trainer.train(tiny_train_config(tiny_dataset, tmp_path / "b", channels_last=False, **tiny), progress=False)
    assert worker_requests == [(-1, "cpu", 1)] * 2
    # each run lays out the training model, then hands it to the compile step, which keeps the layout (the
    # Predictor of the test pass lays out its own copy)
    assert layouts == [True, True, False, False]
    for key in ("train_loss", "val_loss"):  # AdamW's normalised steps magnify the layouts' float rounding
        assert fast.history[key].iloc[0] == pytest.approx(plain.history[key].iloc[0], rel=1e-3)
    assert fast.run_dir.name == plain.run_dir.name  # a speed setting does not start another run folder


def test_benchmark_writes_a_report(tmp_path):
    from benchmarks.run import main

    output = main(["--only", "eval", "--rounds", "1", "--output", str(tmp_path / "results.md")])
    text = output.read_text()
    assert text.startswith("# Benchmark results") and "per-class accuracy" in text and "cores" in text
