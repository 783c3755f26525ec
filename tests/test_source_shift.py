"""The ``source`` augmentation: another source's framing, resolution and compression, with the colours kept."""

from __future__ import annotations

import random

import numpy as np
import torch
from PIL import Image

from animesion.data.augment import train_transform
from animesion.data.source_shift import SourceShift
from animesion.training.sampling import seeded_generators


def face(side: int = 64) -> Image.Image:
    """A red disc (a face's hair colour) on white, with dark line art across it."""
    y, x = np.mgrid[:side, :side]
    pixels = np.full((side, side, 3), 255, np.uint8)
    pixels[(y - side / 2) ** 2 + (x - side / 2) ** 2 < (side / 3) ** 2] = (220, 40, 40)
    pixels[side // 2, :] = 0
    return Image.fromarray(pixels)


def hue_of_saturated(image: Image.Image) -> np.ndarray:
    """The hues (0–255) of the picture's saturated pixels."""
    hsv = np.asarray(image.convert("HSV")).reshape(-1, 3)
    return hsv[hsv[:, 1] > 100, 0]


def test_the_picture_keeps_its_size_and_the_draws_follow_the_sample_seed():
    shift = SourceShift()
    with seeded_generators(3):
        first = shift(face())
    with seeded_generators(3):
        again = shift(face())
    with seeded_generators(4):
        other = shift(face())
    assert first.size == (64, 64) and first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(again))
    assert not np.array_equal(np.asarray(first), np.asarray(other))


def test_everything_but_the_frame_keeps_the_hue_of_the_face():
    random.seed(0)
    shift = SourceShift(p_frame=0.0, p_resolution=1.0, p_line=1.0, p_blur=1.0, p_jpeg=1.0, p_tone=1.0)
    for _ in range(20):
        hues = hue_of_saturated(shift(face()))
        assert len(hues) > 500  # the red disc is still there, still saturated
        red = np.minimum(hues, 256 - hues.astype(int))  # hue distance from red (0 = 256)
        assert np.median(red) <= 6


def test_the_frame_shrinks_the_face_onto_a_background_that_is_not_it():
    random.seed(1)
    shift = SourceShift(p_frame=1.0, p_resolution=0.0, p_line=0.0, p_blur=0.0, p_jpeg=0.0, p_tone=0.0)
    original = len(hue_of_saturated(face()))
    shrunk = []
    for _ in range(20):
        framed = np.asarray(shift(face()))
        disc = (framed[..., 0] > 180) & (framed[..., 1] < 80) & (framed[..., 2] < 80)
        shrunk.append(disc.sum() / original)
    assert 0.3 < np.mean(shrunk) < 0.9  # 0.6–0.95 of the side: 0.36–0.9 of the area


def test_the_source_policy_is_a_training_transform():
    transform = train_transform(64, aa="source", scale=[0.35, 1.0], reprob=0.1)
    assert [type(t).__name__ for t in transform.transforms] == [
        "RandomResizedCropAndInterpolation", "RandomHorizontalFlip", "SourceShift", "ToTensor", "Normalize",
        "RandomErasing"]
    with seeded_generators(0):
        out = transform(face(80))
    assert out.shape == (3, 64, 64) and torch.isfinite(out).all()


def test_sourcetrivial_shifts_the_source_then_takes_trivialaugments_operation():
    transform = train_transform(64, aa="sourcetrivial", scale=[0.35, 1.0])
    assert [type(t).__name__ for t in transform.transforms] == [
        "RandomResizedCropAndInterpolation", "RandomHorizontalFlip", "SourceShift", "TrivialAugmentWide", "ToTensor",
        "Normalize"]
    with seeded_generators(1):
        out = transform(face(80))
    assert out.shape == (3, 64, 64) and torch.isfinite(out).all()
