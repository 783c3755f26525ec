"""Annotated copies of classified images: the picture with its top-k predictions (and tags) written under it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw

from ..atomic import atomic_write
from ..paths import resolve_path
from ..prediction.files import BEST_MATCH, SCORE, TAGS, InferenceResult


def annotate(image: Image.Image, lines: list[str], width: int = 256) -> Image.Image:
    """``image`` scaled to ``width`` with a white band of text lines underneath."""
    scale = width / image.width
    picture = image.resize((width, max(1, round(image.height * scale))))
    band = 14 * len(lines) + 8
    canvas = Image.new("RGB", (width, picture.height + band), "white")
    canvas.paste(picture, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for i, line in enumerate(lines):
        draw.text((4, picture.height + 4 + 14 * i), line, fill=(0, 0, 0))
    return canvas


def write_results(result: InferenceResult, out_dir: str | Path, top_k: int) -> Path:
    """Write ``predictions.csv``, ``failures.csv`` and an annotated copy of every kept image (each atomically)."""
    out_dir = resolve_path(out_dir)
    atomic_write(out_dir / "predictions.csv", lambda tmp: result.table.to_csv(tmp, index=False))
    atomic_write(out_dir / "failures.csv", lambda tmp: result.failures.to_csv(tmp, index=False))
    names, probs = result.top_lists(list(result.images))
    rows = result.table.set_index("file")
    tags = rows[TAGS] if TAGS in rows else None
    for (path, image), top_names, top_probs in zip(result.images.items(), names, probs):
        lines = []
        if SCORE in rows:  # open set: the answer first, then the candidates (the best match in place of unknown)
            lines.append(f"{top_names[0]} (score {rows.loc[path, SCORE]:.2f})")
            top_names = [rows.loc[path, BEST_MATCH], *top_names[1:]]
        lines += [f"{p * 100:5.1f}% {name}" for name, p in zip(top_names[:top_k], top_probs[:top_k])]
        if tags is not None:
            lines += textwrap.wrap("tags: " + ", ".join(tags[path]), 40)
        picture = annotate(image, lines)
        atomic_write(out_dir / "annotated" / f"{Path(path).stem}.png",
                     lambda tmp, picture=picture: picture.save(tmp, format="PNG"))
    return out_dir
