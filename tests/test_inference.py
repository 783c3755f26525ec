"""Folder inference: batched top-k, bad files reported by name while the rest goes on; 05 in one call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from animesion.config.inference import InferenceConfig
from animesion.inference.annotate import write_results
from animesion.inference.run import run_inference
from animesion.inference.samples import make_sample_images
from animesion.models.checkpoint import load_checkpoint
from animesion.prediction.files import predict_folder
from animesion.prediction.predictor import Predictor


def test_folder_with_bad_files(tiny_run, tmp_path):
    folder = make_sample_images(tmp_path / "imgs", count=5)
    (folder / "sub").mkdir()
    (folder / "sub" / "empty.png").write_bytes(b"")
    predictor = Predictor.from_checkpoint(load_checkpoint(tiny_run.best_checkpoint))
    result = predict_folder(predictor, folder, batch_size=2, top_k=3, progress=False)
    # the embedding [5, 512], then the colour histogram [5, 128] of 03's default calibration
    assert len(result.table) == 5 and result.embeddings.shape == (5, 512 + 128)
    assert torch.allclose(result.embeddings[:, :512].norm(dim=1), torch.ones(5))
    assert torch.allclose(result.embeddings[:, 512:].norm(dim=1), torch.ones(5))
    assert sorted(p.rsplit("/", 1)[-1] for p in result.failures["file"]) == ["README.txt", "broken.jpg", "empty.png"]
    probs = result.table[["top1_prob", "top2_prob", "top3_prob"]].to_numpy()
    assert (probs[:, 0] >= probs[:, 1]).all() and (probs.sum(axis=1) <= 1 + 1e-6).all()
    out = write_results(result, predictor, folder, tmp_path / "out", top_k=3)
    # every classified picture, at its path under the folder read
    assert sorted(p.relative_to(out / "annotated").as_posix() for p in (out / "annotated").rglob("*.png")) == \
        sorted(str(Path(f).relative_to(folder).with_suffix(".png")) for f in result.table["file"])
    assert (out / "failures.csv").read_text().count("\n") == 4


def test_loader_workers_and_channels_last_keep_the_predictions(tiny_run, tmp_path):
    folder = make_sample_images(tmp_path / "imgs", count=5)
    ckpt = load_checkpoint(tiny_run.best_checkpoint)
    fast = Predictor.from_checkpoint(ckpt)
    plain = Predictor(load_checkpoint(tiny_run.best_checkpoint).model, ckpt.spec, ckpt.class_names,
                      channels_last=False, open_set=fast.open_set)
    in_process = predict_folder(plain, folder, batch_size=2, top_k=3, progress=False, workers=0)
    with_worker = predict_folder(fast, folder, batch_size=2, top_k=3, progress=False, workers=1)
    assert fast.model.features[0].weight.is_contiguous(memory_format=torch.channels_last)  # shallow is a CNN
    assert plain.model.features[0].weight.is_contiguous()
    assert with_worker.failures.equals(in_process.failures) and len(with_worker.failures) == 2
    names = ["file", "top1", "top2", "top3"]
    assert with_worker.table[names].equals(in_process.table[names])
    # channels-last sums in another order: the probabilities agree to the last bits of fp32
    np.testing.assert_allclose(with_worker.table.filter(like="_prob"), in_process.table.filter(like="_prob"),
                               rtol=0, atol=1e-6)


def test_run_inference_writes_everything_05_shows(tiny_run, tmp_path):
    folder = make_sample_images(tmp_path / "imgs", count=3)
    config = InferenceConfig(checkpoint_path=str(tiny_run.best_checkpoint), test_path=str(folder),
                             results_dir=str(tmp_path / "out"), max_display=2)
    run = run_inference(config, progress=False)
    assert run.folder == folder and len(run.result.table) == 3
    assert run.out_dir == tmp_path / "out" / "inference" and run.parity is None
    for name in ("predictions.csv", "failures.csv", "gallery.png"):
        assert (run.out_dir / name).is_file()
    assert not list(run.out_dir.rglob("*.tmp"))  # every file was written atomically


def test_truncated_pictures_are_answered_with_a_note_and_every_answer_has_a_confidence(tiny_run, tmp_path):
    """A cut-off JPEG or PNG is answered from what was read, and says so; the shown table uses short paths."""
    from PIL import Image

    folder = make_sample_images(tmp_path / "pictures", count=2)
    source = sorted(folder.glob("*.png"))[0]
    (folder / "sub").mkdir()
    Image.open(source).convert("RGB").save(folder / "sub" / "whole.jpg", quality=90)
    data = (folder / "sub" / "whole.jpg").read_bytes()
    (folder / "sub" / "cut.jpg").write_bytes(data[: len(data) * 2 // 3])
    png = source.read_bytes()
    (folder / "cut.png").write_bytes(png[: len(png) - 20])  # the IEND chunk is gone, the pixels are there
    run = run_inference(InferenceConfig(checkpoint_path=str(tiny_run.best_checkpoint), test_path=str(folder),
                                        results_dir=str(tmp_path / "out")), progress=False)
    table = run.result.table.set_index("file")
    notes = {Path(f).name: n for f, n in table["notes"].items()}
    assert "truncated" in notes["cut.jpg"] and "truncated" in notes["cut.png"]
    assert notes["whole.jpg"] == "" and all(notes[p.name] == "" for p in folder.glob("0*.png"))
    assert table["confidence"].between(0, 1).all()
    shown = run.shown_table()
    assert list(shown.columns[:4]) == ["file", "top1", "confidence", "best_match"] and "top1_prob" not in shown
    assert set(shown["file"]) == {"sub/cut.jpg", "sub/whole.jpg", "cut.png", *(p.name for p in folder.glob("0*.png"))}
    assert "\n" not in run.describe() or run.notes  # no empty line without notes
    csv = (tmp_path / "out" / "inference" / "predictions.csv").read_text()
    assert str(folder) in csv and "confidence" in csv.splitlines()[0]
