"""Augmentation that changes what differs between sources and keeps what identifies a character.

A character is known across artists, sites and years by its colours (hair, eyes, clothes) and shapes. What
changes from one source to another is everything else: how loosely the face is framed and what lies behind
it, the resolution the picture was drawn or stored at, its compression, the weight of its lines and the
tone curve of its scan or screen. :class:`SourceShift` varies exactly those, each with its own probability,
and never rotates the hue or inverts colours (TrivialAugmentWide's Solarize, Posterize and Color do), so the
network is taught that the colours of a face are to be trusted and its surroundings are not.

Every draw comes from Python's global ``random``, which the training loader seeds per sample and epoch.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageEnhance, ImageFilter


@dataclass(frozen=True)
class SourceShift:
    """A PIL-to-PIL transform: each step below is applied with its probability ``p_*``, in this order."""

    p_frame: float = 0.5  # zoom out: the picture shrunk to `inner` of the side, pasted on a foreign background
    inner: tuple[float, float] = (0.6, 0.95)
    p_resolution: float = 0.5  # stored smaller: shrunk to `small` of the side and upscaled again
    small: tuple[float, float] = (0.5, 0.9)
    p_line: float = 0.15  # heavier or lighter line art: a 3-px min (dark lines thicken) or max filter
    p_blur: float = 0.2  # softer drawing or scan: Gaussian blur of up to `blur` of the side
    blur: float = 0.015
    p_jpeg: float = 0.5  # recompressed at a JPEG quality in `quality`
    quality: tuple[int, int] = (30, 90)
    p_tone: float = 0.5  # another screen or scan: a gamma in `gamma`, contrast and brightness within ±`tone`
    gamma: tuple[float, float] = (0.8, 1.25)
    tone: float = 0.15

    def __call__(self, image: Image.Image) -> Image.Image:
        image = image.convert("RGB")
        side = image.size
        if random.random() < self.p_frame:
            image = self.reframe(image)
        if random.random() < self.p_resolution:
            share = random.uniform(*self.small)
            smaller = (max(8, round(side[0] * share)), max(8, round(side[1] * share)))
            resample = random.choice((Image.NEAREST, Image.BILINEAR, Image.BICUBIC, Image.LANCZOS))
            image = image.resize(smaller, resample).resize(side, Image.BICUBIC)
        if random.random() < self.p_line:
            image = image.filter(ImageFilter.MinFilter(3) if random.random() < 0.5 else ImageFilter.MaxFilter(3))
        if random.random() < self.p_blur:
            image = image.filter(ImageFilter.GaussianBlur(random.uniform(0.3, 1.0) * self.blur * max(side)))
        if random.random() < self.p_jpeg:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=random.randint(*self.quality))
            image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        if random.random() < self.p_tone:
            image = self.retone(image)
        return image

    def reframe(self, image: Image.Image) -> Image.Image:
        """The picture shrunk and pasted at a random place on a background of colours that are not its own: a
        random colour washed over a blurred, turned copy, so the border says nothing about who it is."""
        width, height = image.size
        wash = Image.new("RGB", image.size, tuple(random.randint(0, 255) for _ in range(3)))
        turned = image.rotate(random.choice((90, 180, 270))).filter(ImageFilter.GaussianBlur(max(image.size) / 12))
        canvas = Image.blend(turned, wash, random.uniform(0.5, 0.9))
        share = random.uniform(*self.inner)
        inner = (max(8, round(width * share)), max(8, round(height * share)))
        corner = (random.randint(0, width - inner[0]), random.randint(0, height - inner[1]))
        canvas.paste(image.resize(inner, Image.BILINEAR), corner)
        return canvas

    def retone(self, image: Image.Image) -> Image.Image:
        """A gamma curve, then contrast and brightness each within ±``tone``; hue and saturation are kept."""
        gamma = random.uniform(*self.gamma)
        image = image.point([round(255 * (v / 255) ** gamma) for v in range(256)] * 3)
        image = ImageEnhance.Contrast(image).enhance(1 + random.uniform(-self.tone, self.tone))
        return ImageEnhance.Brightness(image).enhance(1 + random.uniform(-self.tone, self.tone))


__all__ = ["SourceShift"]
