"""Training vision+tags models: tag metrics in history and metrics.json, decoded predictions, resumable masker,
best-loss checkpoints only in the cool-down."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from animesion.data.stats import read_tags_csv
from animesion.models.checkpoint import load_checkpoint, read_checkpoint_meta
from animesion.training import train
from animesion.training.resume import load_state
from animesion.training.run_dir import RunDir
from conftest import Interrupt, StopAfter, tiny_train_config

TAG_KEYS = {f"tag_{avg}_{score}" for avg in ("micro", "macro") for score in ("precision", "recall", "f1")}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def full_run(tiny_vilt_run):
    return tiny_vilt_run


def test_tag_metrics_in_history_and_metrics(full_run):
    config, result = full_run
    history = pd.read_csv(result.run_dir / "history.csv")
    assert {f"val_{k}" for k in TAG_KEYS} <= set(history.columns)
    metrics = json.loads((result.run_dir / "metrics.json").read_text())
    assert all(0 <= metrics[f"test_{k}"] <= 1 for k in TAG_KEYS)


def test_every_test_prediction_is_written_decoded(full_run, tiny_dataset):
    _, result = full_run
    table = pd.read_csv(result.metrics["test_tag_predictions"])
    assert len(table) == result.metrics["test_samples"] == 12
    predicted = read_tags_csv(result.metrics["test_tag_predictions"])  # as 01_data_exploration reads it
    vocab = load_checkpoint(result.best_checkpoint).vocab
    assert len(predicted) == 12 and all(tag in vocab for tags in predicted for tag in tags)
    log = (result.run_dir / "train.log").read_text()
    assert log.count("tags: predicted [") >= 2 and "| true [" in log  # decoded samples at each log_freq


def test_checkpoint_and_state_carry_tags(full_run, tmp_path):
    config, result = full_run
    ckpt = load_checkpoint(result.best_checkpoint)
    assert ckpt.tokenizer is not None and ckpt.tokenizer.name == "tag"
    unfinished = config.replace(results_dir=str(tmp_path), no_epochs=3)
    with pytest.raises(Interrupt):
        train(unfinished, callbacks=[StopAfter(unfinished, 1)], progress=False)
    state = load_state(RunDir(unfinished).state(1))
    assert state["objects"]["mask_scheduler"] == {"step": 3}  # 3 optimizer steps in epoch 1


def test_sigmoid_keeps_best_loss_for_the_cooldown(tiny_dataset, tmp_path):
    """Epoch 1 ends before the cool-down (steps 4–6 of 6), so only epoch 2 may be the best-loss epoch.

    Also covers WordPiece tokens, random masking, shuffled tags and the IFA head in one short run.
    """
    config = tiny_train_config(tiny_dataset, tmp_path, model_name="Ti_16", multimodal=True, mask_schedule="sigmoid",
                               mask_wu_percent=0.0, mask_cd_percent=0.4, tokenizer="wp", masking_behavior="random",
                               shuffle_tokens=True, interm_features_fc=True, debugging=True, log_freq=1)
    result = train(config, progress=False)
    assert result.metrics["optimizer_steps"] == 6 and result.metrics["best_loss_epoch"] == 2
    assert read_checkpoint_meta(result.run_dir / "best_loss.safetensors")["info"]["epoch"] == 2
    assert load_checkpoint(result.best_checkpoint).tokenizer.name == "wp"
    counts = re.findall(r"masked (\d+)/(\d+)", (result.run_dir / "train.log").read_text())
    assert counts[0][0] == "0" and counts[-1][0] == counts[-1][1]  # nothing masked at step 0, all at the end
