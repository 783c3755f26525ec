"""A small, deliberately messy folder tree of character images, drawn from the synthetic cast (no downloads).

It is the default input of ``02_make_dataset``: one folder per character, images in several formats and
colour modes with a ``.txt`` of tags beside each, one character with too few images, and a few files that
are not readable images.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image

from .synthetic import draw_sample
from .synthetic.characters import make_cast

FORMATS = (".jpg", ".png", ".webp", ".jfif")


def _odd_version(image: Image.Image, kind: int) -> tuple[Image.Image, str]:
    """One of the awkward kinds of file real collections hold: RGBA, grayscale, CMYK, 16-bit, palette."""
    if kind == 0:  # transparent corners
        alpha = Image.new("L", image.size, 0)
        alpha.paste(255, (image.width // 8, 0, image.width * 7 // 8, image.height))
        rgba = image.convert("RGBA")
        rgba.putalpha(alpha)
        return rgba, ".png"
    if kind == 1:
        return image.convert("L"), ".jpg"
    if kind == 2:
        return image.convert("CMYK"), ".jpg"
    if kind == 3:
        return Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257), ".png"
    return image.convert("P", palette=Image.ADAPTIVE), ".gif"


def make_demo_tree(root: str | Path, no_classes: int = 6, images_per_class: int = 16, picture_size: int = 96,
                   seed: int = 0) -> Path:
    """Draw the demo tree into ``root``: ``no_classes`` characters of ``images_per_class`` images, plus one
    character with 4 images (below the default ``min_images_per_class``) and 4 files that are not images."""
    root = Path(root)
    cast = make_cast(no_classes + 1, seed)
    rng = random.Random(seed)
    for c, character in enumerate(cast):
        folder = root / character.name
        folder.mkdir(parents=True, exist_ok=True)
        count = images_per_class if c < no_classes else 4
        for i in range(count):
            image, tags = draw_sample(character, rng, picture_size)
            suffix = FORMATS[i % len(FORMATS)]
            if i == 0:
                image, suffix = _odd_version(image, c % 5)
            name = f"{character.name}_{i:03d}"
            image.save(folder / f"{name}{suffix}")
            (folder / f"{name}.txt").write_text(", ".join(tags) + "\n")
    first, second = root / cast[0].name, root / cast[1].name
    (first / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(rng.randrange(256) for _ in range(600)))
    good = (second / f"{cast[1].name}_001.png").read_bytes()
    (second / "cut_off.png").write_bytes(good[: len(good) // 2])
    (second / "notes.txt").write_text("Pictures collected for the demo.\n")
    (root / "README.md").write_text("One folder per character; made by animesion.data.demo_tree.make_demo_tree.\n")
    return root
