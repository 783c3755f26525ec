"""The colour histogram that tells enrolled characters apart beside the embedding (animesion.prediction.colour)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from animesion.data.transforms import eval_transform
from animesion.inference.gallery import fingerprint, load_gallery, save_gallery
from animesion.models.checkpoint import load_checkpoint
from animesion.prediction.colour import ColourFeature, rgb_to_hsv
from animesion.prediction.open_set import OpenSet, calibrate
from animesion.prediction.predictor import Predictor


def test_hsv_matches_pil_and_the_histogram_counts_the_centre_only():
    pixels = np.random.default_rng(0).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    pixels[0, 0], pixels[0, 1] = (0, 0, 0), (200, 200, 200)  # black and grey: no hue
    theirs = np.asarray(Image.fromarray(pixels).convert("HSV")).astype(float) / 255
    ours = rgb_to_hsv(torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255)[0].permute(1, 2, 0).numpy()
    gap = np.abs(theirs - ours)
    gap[..., 0] = np.minimum(gap[..., 0], 1 - gap[..., 0])  # hue is a circle
    assert gap.max() <= 1 / 255 + 1e-6

    # Blue in the centre, red around it: the histogram sees only blue.
    picture = np.zeros((40, 40, 3), dtype=np.uint8)
    picture[...] = (255, 0, 0)
    picture[8:32, 8:32] = (0, 0, 255)
    batch = eval_transform(40)(Image.fromarray(picture))[None]
    histogram = ColourFeature(1.0, centre=0.6)(batch)[0]
    assert histogram.shape == (128,) and torch.isclose(histogram.norm(), torch.tensor(1.0))
    blue = (int(8 * 2 / 3) * 4 + 3) * 4 + 3  # hue 2/3 → bin 5, full saturation and value
    assert histogram[blue] == 1.0
    assert ColourFeature(1.0, centre=1.0)(batch)[0][0 * 16 + 3 * 4 + 3] > 0  # the whole picture: red too


def _features(embeddings: Tensor, bins: list[int]) -> Tensor:
    """Identity features [N, D + 128]: the embeddings and a one-bin colour histogram per picture."""
    hist = torch.zeros(len(embeddings), 128)
    hist[torch.arange(len(embeddings)), torch.tensor(bins)] = 1.0
    return torch.cat([embeddings, hist], 1)


def test_colour_tells_new_characters_apart_in_one_joint_space(tmp_path):
    torch.manual_seed(0)
    axes = torch.eye(16)
    # two trained characters along axes 0 and 1 (hair bins 30 and 60); two new ones whose embeddings are the same
    # noise around axis 5, one blue (bin 90) and one red (bin 5)
    train = F.normalize(axes[torch.arange(200) % 2] * 3 + torch.randn(200, 16) * 0.5, dim=-1)
    labels = torch.arange(200) % 2
    train_features = _features(train, [30 if y == 0 else 60 for y in labels.tolist()])
    open_set = calibrate(train_features[:100], labels[:100], train_features[100:], labels[100:], ["a", "b"],
                         ColourFeature(1.0))
    assert open_set.joint and open_set.center.shape == (16 + 128,)  # centred and whitened together
    new = F.normalize(axes[5] * 3 + torch.randn(60, 16) * 0.5, dim=-1)
    new_labels = torch.arange(60) % 2
    features = _features(new, [90 if y == 0 else 5 for y in new_labels.tolist()])
    gallery = open_set.enrolled(features[:10], new_labels[:10], ["blue", "red"])
    assert gallery.joined is None and gallery.vectors.shape[1] == open_set.classes.vectors.shape[1]
    truth = ["blue" if y == 0 else "red" for y in new_labels[10:].tolist()]

    def named(calibration: OpenSet, queries: Tensor, shots: Tensor) -> float:
        found = calibration.recognise(queries, calibration.enrolled(shots, new_labels[:10], ["blue", "red"]),
                                      threshold=0)
        return sum(n[0] == t for n, t in zip(found.names, truth)) / len(truth)

    embedding_only = calibrate(train[:100], labels[:100], train[100:], labels[100:], ["a", "b"])
    assert named(open_set, features[10:], features[:10]) == 1.0
    assert named(embedding_only, new[10:], new[:10]) < 0.8
    # trained and enrolled characters share one space: every score is a cosine between projected features
    found = open_set.recognise(features[10:], gallery, threshold=0)
    assert torch.allclose(found.score, (open_set.project(features[10:]) @ gallery.vectors.T).max(dim=-1).values)
    # colour also keeps the trained characters' pictures apart from the new ones
    trained_found = open_set.recognise(train_features[100:], gallery, threshold=0)
    assert [n[0] for n in trained_found.names] == [["a", "b"][y] for y in labels[100:].tolist()]

    stored = OpenSet.from_stored(open_set.to_tensors(), open_set.to_meta(), ["a", "b"])
    assert stored.colour == ColourFeature(1.0) and stored.joint
    assert torch.allclose(stored.project(features), open_set.project(features))
    path = save_gallery(gallery, tmp_path / "gallery.safetensors", open_set)
    assert torch.equal(load_gallery(path, open_set).vectors, gallery.vectors)


def test_a_calibration_written_before_the_joint_space_keeps_its_answers(tmp_path):
    """Calibrations of the embedding's space, with colour joined for enrolled characters only, read as they were
    written: the colour columns of the identity features are left out of the projection."""
    torch.manual_seed(0)
    axes = torch.eye(16)
    train = F.normalize(axes[torch.arange(200) % 2] * 3 + torch.randn(200, 16) * 0.5, dim=-1)
    labels = torch.arange(200) % 2
    embedding_only = calibrate(train[:100], labels[:100], train[100:], labels[100:], ["a", "b"])
    open_set = dataclasses.replace(embedding_only, colour=ColourFeature(1.0))  # as 03 wrote it before
    meta = open_set.to_meta()
    assert "joint" not in meta
    open_set = OpenSet.from_stored(open_set.to_tensors(), meta, ["a", "b"])
    assert not open_set.joint and open_set.colour == ColourFeature(1.0)
    new = F.normalize(axes[5] * 3 + torch.randn(60, 16) * 0.5, dim=-1)
    new_labels = torch.arange(60) % 2
    features = _features(new, [90 if y == 0 else 5 for y in new_labels.tolist()])
    assert torch.equal(open_set.project(features), embedding_only.project(new))  # colour columns left out
    gallery = open_set.enrolled(features[:10], new_labels[:10], ["blue", "red"])
    assert gallery.joined is not None and gallery.joined.shape == (2, open_set.whiten.shape[1] + 128)
    plain = dataclasses.replace(gallery, joined=None)  # a gallery enrolled before colour
    found = {name: open_set.recognise(features[10:], g, threshold=0) for name, g in (("colour", gallery),
                                                                                  ("plain", plain))}
    truth = ["blue" if y == 0 else "red" for y in new_labels[10:].tolist()]
    named = {k: sum(n[0] == t for n, t in zip(f.names, truth)) / len(truth) for k, f in found.items()}
    assert named["colour"] == 1.0 and named["plain"] < 0.8, named
    # enrolled characters are scored joined to their colours, against the gallery's own threshold
    joined = (open_set.joined(features[10:]) @ gallery.joined.T).max(dim=-1).values
    assert torch.allclose(found["colour"].score, joined)
    assert torch.allclose(found["colour"].margin, joined - open_set.gallery_threshold(gallery))
    # a calibration written before per-gallery thresholds: the colour only reorders, the score is the embedding's
    old_rule = dataclasses.replace(open_set, false_unknown=None)
    before = {name: old_rule.recognise(features[10:], g, threshold=0) for name, g in (("colour", gallery),
                                                                                     ("plain", plain))}
    assert torch.equal(before["colour"].score, before["plain"].score)
    assert [n[0] for n in before["colour"].names] == [n[0] for n in found["colour"].names]

    old = dataclasses.replace(open_set, colour=None)
    assert "colour" not in old.to_meta()
    assert OpenSet.from_stored(old.to_tensors(), old.to_meta(), ["a", "b"]).colour is None
    assert fingerprint(open_set) == fingerprint(old)  # galleries enrolled before colour still load
    path = save_gallery(gallery, tmp_path / "gallery.safetensors", open_set)
    assert torch.equal(load_gallery(path, open_set).joined, gallery.joined)
    path = save_gallery(plain, tmp_path / "plain.safetensors", open_set)
    assert load_gallery(path, open_set).joined is None


def test_the_predictor_joins_the_histogram_of_its_own_input_batch(tiny_run):
    predictor = Predictor.from_checkpoint(load_checkpoint(tiny_run.best_checkpoint), device="cpu")
    assert predictor.colour == predictor.open_set.colour == ColourFeature(1.0)  # 03's default
    batch = torch.rand(3, 3, predictor.spec.image_size, predictor.spec.image_size) * 2 - 1
    features = predictor.embeddings(batch)
    learned = len(predictor.open_set.center) - 128  # 03's default space: the embedding joined to colour
    assert predictor.open_set.joint and features.shape == (3, learned + 128)
    assert torch.allclose(features[:, learned:], ColourFeature(1.0)(batch))
    predictor.open_set = None  # no calibration, no colour
    assert predictor.colour is None and predictor.embeddings(batch).shape == (3, learned)
