"""Folder inference: batched top-k, bad files reported by name while the rest goes on."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from animesion.inference import make_sample_images, predict_folder
from animesion.inference.annotate import write_results
from animesion.training import load_checkpoint


def test_folder_with_bad_files(tiny_run, tmp_path):
    folder = make_sample_images(tmp_path / "imgs", count=5)
    (folder / "sub").mkdir()
    (folder / "sub" / "empty.png").write_bytes(b"")
    ckpt = load_checkpoint(tiny_run.best_checkpoint)
    result = predict_folder(ckpt, folder, batch_size=2, top_k=3, keep_images=2, progress=False)
    assert len(result.table) == 5
    assert sorted(p.rsplit("/", 1)[-1] for p in result.failures["file"]) == ["README.txt", "broken.jpg", "empty.png"]
    probs = result.table[["top1_prob", "top2_prob", "top3_prob"]].to_numpy()
    assert (probs[:, 0] >= probs[:, 1]).all() and (probs.sum(axis=1) <= 1 + 1e-6).all()
    out = write_results(result, tmp_path / "out", top_k=3)
    assert len(list((out / "annotated").glob("*.png"))) == 2
    assert (out / "failures.csv").read_text().count("\n") == 4


def test_loader_workers_and_channels_last_keep_the_predictions(tiny_run, tmp_path):
    folder = make_sample_images(tmp_path / "imgs", count=5)
    ckpt = load_checkpoint(tiny_run.best_checkpoint)
    plain = load_checkpoint(tiny_run.best_checkpoint)
    plain = dataclasses.replace(plain, config=plain.config.replace(channels_last=False))
    in_process = predict_folder(plain, folder, batch_size=2, top_k=3, progress=False, workers=0)
    with_worker = predict_folder(ckpt, folder, batch_size=2, top_k=3, progress=False, workers=1)
    assert ckpt.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)  # shallow is a CNN
    assert plain.model.features[0].weight.is_contiguous()
    assert with_worker.failures.equals(in_process.failures) and len(with_worker.failures) == 2
    names = ["file", "top1", "top2", "top3"]
    assert with_worker.table[names].equals(in_process.table[names])
    # channels-last sums in another order: the probabilities agree to the last bits of fp32
    np.testing.assert_allclose(with_worker.table.filter(like="_prob"), in_process.table.filter(like="_prob"),
                               rtol=0, atol=1e-6)
