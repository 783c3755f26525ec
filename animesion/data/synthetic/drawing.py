"""Procedural drawing of one anime-style head with PIL: fast (well over 300 images/s on one core)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from ...registry import Registry
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


@dataclass(frozen=True)
class Canvas:
    """Where one head is drawn: the PIL drawing, the head's geometry, its colours and the picture side.

    ``pt(x, y)`` and ``box(x0, y0, x1, y1)`` turn face coordinates (units of the head radius, around the
    head centre) into pixels.
    """

    draw: ImageDraw.ImageDraw
    cx: float
    cy: float
    r: float
    hair: Color
    dark_hair: Color
    eye: Color
    size: int

    def pt(self, x: float, y: float) -> tuple[float, float]:
        return (self.cx + x * self.r, self.cy + y * self.r)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> list[float]:
        return [*self.pt(x0, y0), *self.pt(x1, y1)]


Painter = Callable[[Canvas], None]


def _nothing(c: Canvas) -> None:
    """A part that this attribute value does not draw."""


@dataclass(frozen=True)
class HairStyle:
    """How a hair style is drawn: ``back`` behind the head (before the face), ``front`` over the cap."""

    back: Painter = _nothing
    front: Painter = _nothing


def _long(c: Canvas) -> None:
    c.draw.rectangle(c.box(-1.15, -0.4, 1.15, 2.4), fill=c.dark_hair)


def _bob(c: Canvas) -> None:
    c.draw.rounded_rectangle(c.box(-1.25, -1.1, 1.25, 0.9), radius=int(0.5 * c.r), fill=c.dark_hair)


def _twintails(c: Canvas) -> None:
    c.draw.ellipse(c.box(-2.0, -0.6, -0.9, 2.2), fill=c.dark_hair)
    c.draw.ellipse(c.box(0.9, -0.6, 2.0, 2.2), fill=c.dark_hair)


def _ponytail(c: Canvas) -> None:
    c.draw.ellipse(c.box(0.6, -1.5, 1.9, 0.9), fill=c.dark_hair)


def _spikes(c: Canvas) -> None:
    for k in range(-3, 4):
        x = k * 0.3
        c.draw.polygon([c.pt(x - 0.2, -0.9), c.pt(x, -1.55), c.pt(x + 0.2, -0.9)], fill=c.hair)


HAIR_STYLE_DRAWING: Registry[HairStyle] = Registry("hair style")
for _name, _style in {"short": HairStyle(), "long": HairStyle(back=_long), "bob": HairStyle(back=_bob),
                      "twintails": HairStyle(back=_twintails), "ponytail": HairStyle(back=_ponytail),
                      "spiky": HairStyle(front=_spikes)}.items():
    HAIR_STYLE_DRAWING.register(_name)(_style)


def _open_eyes(c: Canvas) -> None:
    for side in (-1, 1):
        ex = 0.42 * side
        c.draw.ellipse(c.box(ex - 0.22, -0.05, ex + 0.22, 0.45), fill=(255, 255, 255))
        c.draw.ellipse(c.box(ex - 0.17, 0.02, ex + 0.17, 0.43), fill=c.eye)
        c.draw.ellipse(c.box(ex - 0.08, 0.14, ex + 0.08, 0.34), fill=_shade(c.eye, 0.35))
        c.draw.ellipse(c.box(ex - 0.12, 0.06, ex - 0.02, 0.16), fill=(255, 255, 255))


def _closed_eyes(c: Canvas) -> None:
    for side in (-1, 1):
        ex = 0.42 * side
        c.draw.arc(c.box(ex - 0.22, 0.05, ex + 0.22, 0.35), 200, 340, fill=(40, 30, 30), width=max(1, c.size // 48))


def _smile(c: Canvas) -> None:
    c.draw.arc(c.box(-0.22, 0.45, 0.22, 0.75), 20, 160, fill=(150, 40, 50), width=max(1, c.size // 48))


def _open_mouth(c: Canvas) -> None:
    c.draw.ellipse(c.box(-0.14, 0.55, 0.14, 0.8), fill=(170, 40, 60))


def _closed_mouth(c: Canvas) -> None:
    c.draw.line(c.box(-0.1, 0.65, 0.1, 0.65), fill=(150, 60, 60), width=max(1, c.size // 64))


@dataclass(frozen=True)
class Expression:
    """How an expression is drawn: its eyes, then its mouth."""

    eyes: Painter
    mouth: Painter


EXPRESSION_DRAWING: Registry[Expression] = Registry("expression")
for _name, _expression in {"neutral": Expression(_open_eyes, _closed_mouth), "smile": Expression(_open_eyes, _smile),
                           "open_mouth": Expression(_open_eyes, _open_mouth),
                           "closed_eyes": Expression(_closed_eyes, _closed_mouth)}.items():
    EXPRESSION_DRAWING.register(_name)(_expression)


def _ribbon(c: Canvas) -> None:
    c.draw.polygon([c.pt(-0.1, -1.0), c.pt(-0.7, -1.35), c.pt(-0.7, -0.7)], fill=(230, 30, 60))
    c.draw.polygon([c.pt(0.1, -1.0), c.pt(0.7, -1.35), c.pt(0.7, -0.7)], fill=(230, 30, 60))


def _glasses(c: Canvas) -> None:
    w = max(1, c.size // 40)
    for side in (-1, 1):
        ex = 0.42 * side
        c.draw.ellipse(c.box(ex - 0.3, -0.05, ex + 0.3, 0.5), outline=(20, 20, 20), width=w)
    c.draw.line(c.box(-0.12, 0.18, 0.12, 0.18), fill=(20, 20, 20), width=w)


def _hat(c: Canvas) -> None:
    c.draw.rectangle(c.box(-1.3, -1.0, 1.3, -0.8), fill=(60, 40, 120))
    c.draw.rectangle(c.box(-0.8, -1.7, 0.8, -0.9), fill=(60, 40, 120))
    c.draw.rectangle(c.box(-0.8, -1.1, 0.8, -0.95), fill=(230, 200, 60))


def _hair_clip(c: Canvas) -> None:
    c.draw.rectangle(c.box(0.45, -0.75, 0.95, -0.6), fill=(255, 220, 40))
    c.draw.rectangle(c.box(0.45, -0.55, 0.95, -0.4), fill=(255, 220, 40))


def _animal_ears(c: Canvas) -> None:
    for side in (-1, 1):
        x = 0.6 * side
        c.draw.polygon([c.pt(x - 0.35, -0.75), c.pt(x + 0.1 * side, -1.6), c.pt(x + 0.35, -0.75)], fill=c.hair)
        c.draw.polygon([c.pt(x - 0.18, -0.82), c.pt(x + 0.08 * side, -1.35), c.pt(x + 0.18, -0.82)],
                       fill=(250, 180, 190))


ACCESSORY_DRAWING: Registry[Painter] = Registry("accessory")
for _name, _painter in {"none": _nothing, "ribbon": _ribbon, "glasses": _glasses, "hat": _hat,
                        "hair_clip": _hair_clip, "animal_ears": _animal_ears}.items():
    ACCESSORY_DRAWING.register(_name)(_painter)


def draw_character(character: Character, pose: Pose, size: int) -> Image.Image:
    """Render ``character`` in ``pose`` as a ``size``×``size`` RGB image.

    Each attribute value is drawn by its entry in :data:`HAIR_STYLE_DRAWING`, :data:`EXPRESSION_DRAWING`
    and :data:`ACCESSORY_DRAWING`, so a value without a drawing is an error, never a blank.
    """
    style = HAIR_STYLE_DRAWING.get(character.hair_style)
    expression = EXPRESSION_DRAWING.get(pose.expression)
    accessory = ACCESSORY_DRAWING.get(character.accessory)
    img = _background(size, pose)
    hair = _shade(HAIR_COLORS[character.hair_color], pose.light)
    skin = _shade(SKIN_TONES[character.skin_tone], pose.light)
    c = Canvas(ImageDraw.Draw(img), pose.cx * size, pose.cy * size, pose.scale * size, hair, _shade(hair, 0.75),
               _shade(EYE_COLORS[character.eye_color], pose.light), size)
    style.back(c)
    c.draw.rectangle(c.box(-0.3, 0.7, 0.3, 1.6), fill=_shade(skin, 0.9))  # neck, then face
    c.draw.ellipse(c.box(-0.95, -0.95, 0.95, 1.05), fill=skin)
    c.draw.chord(c.box(-1.05, -1.15, 1.05, 0.5), 180, 360, fill=hair)  # hair in front: a cap with bangs
    style.front(c)
    for k in (-0.6, 0.0, 0.6):
        c.draw.polygon([c.pt(k - 0.35, -0.4), c.pt(k + 0.35, -0.4), c.pt(k, -0.05)], fill=hair)
    expression.eyes(c)
    expression.mouth(c)
    if pose.show_accessory:
        accessory(c)
    if pose.angle:
        img = img.rotate(pose.angle, resample=Image.BILINEAR, fillcolor=pose.background[0])
    return img
