"""The new-character benchmark's pieces: folds that rotate, floors that compare, a deterministic other source."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from benchmarks import new_characters as nc


def test_folds_split_every_character_once_and_rotate():
    folds = [nc.fold_roles(20, f) for f in range(5)]
    for roles in folds:
        assert sorted(roles.trained + roles.enrolled + roles.unseen) == list(range(20))
        assert (len(roles.trained), len(roles.enrolled), len(roles.unseen)) == (10, 5, 5)
    assert len({tuple(r.trained) for r in folds}) == 5  # each fold trains on other characters
    assert nc.fold_roles(20, 3) == folds[3]  # and is the same every run


def test_nearest_prototype_and_colour_histogram_tell_colours_apart():
    rng = np.random.default_rng(0)
    colours = [(220, 40, 40), (40, 40, 220), (40, 200, 40)]
    images = [Image.fromarray(np.clip(rng.normal(c, 12, (32, 32, 3)), 0, 255).astype(np.uint8))
              for c in colours for _ in range(4)]
    labels = torch.tensor([k for k in range(3) for _ in range(4)])
    hist = nc.colour_histogram(images)
    assert hist.shape == (12, 128) and torch.allclose((hist ** 2).sum(1), torch.ones(12))
    shots, queries = [0, 4, 8], [i for i in range(12) if i not in (0, 4, 8)]
    assert nc.nearest_prototype(hist[shots], labels[shots], hist[queries], labels[queries]) == 1.0
    shuffled = labels[queries][torch.tensor([3, 4, 5, 6, 7, 8, 0, 1, 2])]
    assert nc.nearest_prototype(hist[shots], labels[shots], hist[queries], shuffled) == 0.0


def test_another_source_is_deterministic_and_changes_the_picture():
    face = Image.fromarray(np.random.default_rng(1).integers(0, 255, (96, 96, 3), dtype=np.uint8))
    wall = Image.new("RGB", (96, 96), (10, 120, 30))
    first, again = nc.another_source(face, 7, wall), nc.another_source(face, 7, wall)
    assert first.size == face.size and np.array_equal(np.asarray(first), np.asarray(again))
    assert np.abs(np.asarray(first, dtype=int) - np.asarray(face, dtype=int)).mean() > 10
    assert not np.array_equal(np.asarray(first), np.asarray(nc.another_source(face, 8, wall)))


def test_a_run_from_a_backbone_also_shows_the_backbone_before_training():
    from animesion.models.factory import create_model
    from animesion.models.spec import ModelSpec
    from animesion.prediction.predictor import Predictor

    def predictor(spec: ModelSpec) -> Predictor:
        return Predictor(create_model(spec).eval(), spec, [f"c{i}" for i in range(spec.num_classes)], device="cpu")

    random = predictor(ModelSpec(model_name="resnet18", num_classes=3, image_size=32))
    assert nc.started_like(random) is None
    started_from = ModelSpec(model_name="resnet18", num_classes=3, image_size=32, backbone="faces-simclr-resnet18")
    tuned = predictor(started_from)
    torch.nn.init.zeros_(tuned.model.net.layer4[1].conv2.weight)  # training moved the weights
    started = nc.started_like(tuned)
    assert started.open_set is None
    faces = [Image.fromarray(np.random.default_rng(s).integers(0, 255, (40, 40, 3), dtype=np.uint8)) for s in range(4)]
    found = nc.embeddings_by(tuned, nc.untrained_like(tuned, seed=0), faces, started)
    assert list(found)[:3] == [nc.CEILING, "trained network, embedding alone", nc.START]
    assert not torch.allclose(found[nc.START], found["trained network, embedding alone"])
    assert nc.START not in nc.embeddings_by(random, nc.untrained_like(random, seed=0), faces)
