"""Procedural drawing of one anime-style head with PIL: fast (well over 300 images/s on one core)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from .characters import EYE_COLORS, HAIR_COLORS, SKIN_TONES, Character

Color = tuple[int, int, int]


@dataclass(frozen=True)
class Pose:
    """What varies between two pictures of the same character."""

    cx: float  # head centre, as a fraction of the image side
    cy: float
    scale: float  # head radius, as a fraction of the image side
    angle: float  # degrees, small
    expression: str
    show_accessory: bool
    background: tuple[Color, Color]
    light: float  # brightness factor


def random_pose(rng: random.Random, expressions: tuple[str, ...]) -> Pose:
    """Draw a random pose: position, scale, rotation, background, expression, lighting, accessory drop."""
    bg_a = tuple(rng.randint(60, 255) for _ in range(3))
    bg_b = tuple(min(255, max(0, c + rng.randint(-60, 60))) for c in bg_a)
    return Pose(
        cx=rng.uniform(0.42, 0.58), cy=rng.uniform(0.45, 0.58), scale=rng.uniform(0.24, 0.31),
        angle=rng.uniform(-12, 12), expression=rng.choice(expressions), show_accessory=rng.random() > 0.1,
        background=(bg_a, bg_b), light=rng.uniform(0.8, 1.15),  # type: ignore[arg-type]
    )


def _shade(color: Color, factor: float) -> Color:
    return tuple(min(255, max(0, int(c * factor))) for c in color)  # type: ignore[return-value]


def _background(size: int, pose: Pose) -> Image.Image:
    """Vertical two-colour gradient, built from a 1×2 image resized (cheap)."""
    strip = Image.new("RGB", (1, 2))
    strip.putpixel((0, 0), pose.background[0])
    strip.putpixel((0, 1), pose.background[1])
    return strip.resize((size, size), Image.BILINEAR)


def draw_character(character: Character, pose: Pose, size: int) -> Image.Image:
    """Render ``character`` in ``pose`` as a ``size``×``size`` RGB image."""
    img = _background(size, pose)
    d = ImageDraw.Draw(img)
    hair = _shade(HAIR_COLORS[character.hair_color], pose.light)
    dark_hair = _shade(hair, 0.75)
    skin = _shade(SKIN_TONES[character.skin_tone], pose.light)
    eye = _shade(EYE_COLORS[character.eye_color], pose.light)
    cx, cy, r = pose.cx * size, pose.cy * size, pose.scale * size

    def pt(x: float, y: float) -> tuple[float, float]:
        # Relative point (units of head radius, around the head centre) → pixel point.
        return (cx + x * r, cy + y * r)

    def box(x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [*pt(x0, y0), *pt(x1, y1)]

    style = character.hair_style
    # Hair behind the head.
    if style == "long":
        d.rectangle(box(-1.15, -0.4, 1.15, 2.4), fill=dark_hair)
    elif style == "bob":
        d.rounded_rectangle(box(-1.25, -1.1, 1.25, 0.9), radius=int(0.5 * r), fill=dark_hair)
    elif style == "twintails":
        d.ellipse(box(-2.0, -0.6, -0.9, 2.2), fill=dark_hair)
        d.ellipse(box(0.9, -0.6, 2.0, 2.2), fill=dark_hair)
    elif style == "ponytail":
        d.ellipse(box(0.6, -1.5, 1.9, 0.9), fill=dark_hair)
    # Neck, then face.
    d.rectangle(box(-0.3, 0.7, 0.3, 1.6), fill=_shade(skin, 0.9))
    d.ellipse(box(-0.95, -0.95, 0.95, 1.05), fill=skin)
    # Hair in front: a cap with bangs.
    d.chord(box(-1.05, -1.15, 1.05, 0.5), 180, 360, fill=hair)
    if style == "spiky":
        for k in range(-3, 4):
            x = k * 0.3
            d.polygon([pt(x - 0.2, -0.9), pt(x, -1.55), pt(x + 0.2, -0.9)], fill=hair)
    for k in (-0.6, 0.0, 0.6):  # bangs
        d.polygon([pt(k - 0.35, -0.4), pt(k + 0.35, -0.4), pt(k, -0.05)], fill=hair)
    # Eyes.
    for side in (-1, 1):
        ex = 0.42 * side
        if pose.expression == "closed_eyes":
            d.arc(box(ex - 0.22, 0.05, ex + 0.22, 0.35), 200, 340, fill=(40, 30, 30), width=max(1, size // 48))
            continue
        d.ellipse(box(ex - 0.22, -0.05, ex + 0.22, 0.45), fill=(255, 255, 255))
        d.ellipse(box(ex - 0.17, 0.02, ex + 0.17, 0.43), fill=eye)
        d.ellipse(box(ex - 0.08, 0.14, ex + 0.08, 0.34), fill=_shade(eye, 0.35))
        d.ellipse(box(ex - 0.12, 0.06, ex - 0.02, 0.16), fill=(255, 255, 255))
    # Mouth.
    if pose.expression == "smile":
        d.arc(box(-0.22, 0.45, 0.22, 0.75), 20, 160, fill=(150, 40, 50), width=max(1, size // 48))
    elif pose.expression == "open_mouth":
        d.ellipse(box(-0.14, 0.55, 0.14, 0.8), fill=(170, 40, 60))
    else:
        d.line(box(-0.1, 0.65, 0.1, 0.65), fill=(150, 60, 60), width=max(1, size // 64))
    if pose.show_accessory:
        _draw_accessory(d, character.accessory, pt, box, hair, size)
    if pose.angle:
        img = img.rotate(pose.angle, resample=Image.BILINEAR, fillcolor=pose.background[0])
    return img


Point = Callable[[float, float], tuple[float, float]]  # face coordinates → pixels
Box = Callable[[float, float, float, float], list[float]]


def _draw_accessory(d: ImageDraw.ImageDraw, accessory: str, pt: Point, box: Box, hair: Color, size: int) -> None:
    if accessory == "ribbon":
        d.polygon([pt(-0.1, -1.0), pt(-0.7, -1.35),
                   pt(-0.7, -0.7)], fill=(230, 30, 60))
        d.polygon([pt(0.1, -1.0), pt(0.7, -1.35),
                   pt(0.7, -0.7)], fill=(230, 30, 60))
    elif accessory == "glasses":
        w = max(1, size // 40)
        for side in (-1, 1):
            ex = 0.42 * side
            d.ellipse(box(ex - 0.3, -0.05, ex + 0.3, 0.5), outline=(20, 20, 20), width=w)
        d.line(box(-0.12, 0.18, 0.12, 0.18), fill=(20, 20, 20), width=w)
    elif accessory == "hat":
        d.rectangle(box(-1.3, -1.0, 1.3, -0.8), fill=(60, 40, 120))
        d.rectangle(box(-0.8, -1.7, 0.8, -0.9), fill=(60, 40, 120))
        d.rectangle(box(-0.8, -1.1, 0.8, -0.95), fill=(230, 200, 60))
    elif accessory == "hair_clip":
        d.rectangle(box(0.45, -0.75, 0.95, -0.6), fill=(255, 220, 40))
        d.rectangle(box(0.45, -0.55, 0.95, -0.4), fill=(255, 220, 40))
    elif accessory == "animal_ears":
        for side in (-1, 1):
            x = 0.6 * side
            d.polygon([pt(x - 0.35, -0.75), pt(x + 0.1 * side, -1.6),
                       pt(x + 0.35, -0.75)], fill=hair)
            d.polygon([pt(x - 0.18, -0.82), pt(x + 0.08 * side, -1.35),
                       pt(x + 0.18, -0.82)], fill=(250, 180, 190))
