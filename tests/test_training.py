"""Training end to end on the tiny synthetic set: run folder, history, metrics, checkpoints."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
import yaml

from animesion.config.train import TrainConfig
from animesion.models.checkpoint import load_checkpoint, read_checkpoint_meta
from animesion.optim.schedules import lr_factor
from animesion.training import train
from animesion.training.run_dir import run_name
from conftest import tiny_train_config


def test_run_folder_is_self_describing(tiny_run):
    run = tiny_run.run_dir
    assert yaml.safe_load((run / "params.yaml").read_text())["run_name"] == "tiny_shallow"
    history = pd.read_csv(run / "history.csv")
    assert list(history["epoch"]) == [1, 2]
    assert {"train_loss", "val_loss", "val_top1", "val_top5", "lr"} <= set(history.columns)
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0 <= metrics["test_top1"] <= metrics["test_top5"] <= 100
    assert metrics["test_samples"] == 6 * 2  # every test image counted: no shuffle, no dropped batch
    assert (run / "train.log").read_text().count("epoch 2:") == 1
    for name in ("best.safetensors", "last.safetensors", "figures/history.png"):
        assert (run / name).is_file()
    assert tiny_run.figures == {"history": run / "figures" / "history.png"}


def test_checkpoint_carries_its_model_spec_parameters_and_class_names(tiny_run):
    meta = read_checkpoint_meta(tiny_run.best_checkpoint)
    assert meta["model_spec"] == {**meta["model_spec"], "model_name": "shallow", "num_classes": 6, "image_size": 32}
    assert meta["training"]["run_name"] == "tiny_shallow" and len(meta["class_names"]) == 6
    ckpt = load_checkpoint(tiny_run.best_checkpoint)
    assert not ckpt.model.training
    assert ckpt.model(torch.zeros(2, 3, 32, 32))["logits"].shape == (2, 6)


def test_same_parameters_same_run_name():
    assert run_name(TrainConfig()) == run_name(TrainConfig(log_freq=7, results_dir="elsewhere"))
    assert run_name(TrainConfig()) != run_name(TrainConfig(no_epochs=3))


def test_learning_is_real(tiny_dataset, tmp_path):
    """Six epochs on six characters: the shallow CNN must beat chance (16.7%) clearly on val."""
    result = train(tiny_train_config(tiny_dataset, tmp_path, no_epochs=6, run_name="learn"), progress=False)
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]
    assert result.metrics["best_val_top1"] > 40


@pytest.mark.parametrize("model_name", ["resnet18", "Ti_16"])
def test_other_families_train(tiny_dataset, tmp_path, model_name):
    config = tiny_train_config(tiny_dataset, tmp_path, model_name=model_name, no_epochs=1, debugging=True,
                               log_freq=1)
    result = train(config, progress=False)
    assert len(result.history) == 1 and result.best_checkpoint.is_file()


@pytest.mark.parametrize("name", ["warmupCosine", "epochDecayConstant"])
def test_lr_schedules(name):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(name, total_steps=100, warmup_steps=10,
                                                                      steps_per_epoch=10, epoch_decay=2))
    lrs = []
    for _ in range(100):
        lrs.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    if name == "warmupCosine":
        assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0) and lrs[-1] < 0.01
        assert lrs[55] == pytest.approx(0.5, abs=0.02)
    else:
        assert lrs[19] == pytest.approx(1.0) and lrs[20] == pytest.approx(1 / 3) and lrs[40] == pytest.approx(1 / 9)


def test_cached_pictures_train_exactly_as_decoded_ones(tiny_dataset, tmp_path):
    """cache_images keeps decoded pictures, not augmented ones: the run is the same, only faster."""
    runs = [train(tiny_train_config(tiny_dataset, tmp_path / str(cache), no_epochs=2, cache_images=cache),
                  progress=False) for cache in (True, False)]
    assert [r.metrics["cached_images"] for r in runs] == [True, False]
    columns = ["train_loss", "train_top1", "val_loss", "val_top1"]
    assert runs[0].history[columns].equals(runs[1].history[columns])
    assert runs[0].run_dir.name == runs[1].run_dir.name  # a speed setting: the same run folder
    assert {"data_time_s", "val_time_s", "save_time_s"} <= set(runs[0].history.columns)


def test_cache_images_none_decides_by_size(tiny_dataset):
    from animesion.data.dataset import fits_in_memory, load_dataset

    records = load_dataset("synthetic", tiny_dataset, progress=False).splits["train"]
    root = tiny_dataset / "faces"
    assert fits_in_memory(records, root, 64) and not fits_in_memory(records, root, 64, budget=1000)
