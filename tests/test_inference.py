"""Folder inference: batched top-k, bad files reported by name while the rest goes on."""

from __future__ import annotations

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
