"""What ``save_results`` writes: the tables, an annotated copy of every classified picture, and a gallery."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from ..atomic import atomic_write
from ..paths import resolve_path
from ..plots.images import prediction_gallery
from ..plots.save import save_figure
from ..prediction.files import NOTES, TAGS, InferenceResult
from ..prediction.predictor import Predictor
from ..utils.progress import progress_bar

SAVED_GALLERY = 12  # pictures in the saved gallery.png (the notebook shows max_display of its own)


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


def annotation_lines(result: InferenceResult, file: str, top_k: int) -> list[str]:
    """The text under a picture: the answer with its confidence, the top-k candidates, the tags, the note."""
    row = result.table.set_index("file").loc[file]
    names, probs = result.top_lists([file])
    lines = result.answer_texts([file])
    lines += [f"{p * 100:5.1f}% {name}" for name, p in zip(names[0][:top_k], probs[0][:top_k])]
    if TAGS in row:
        lines += textwrap.wrap("tags: " + ", ".join(row[TAGS]), 40)
    if row[NOTES]:
        lines += textwrap.wrap("note: " + row[NOTES], 40)
    return lines


def gallery_figure(result: InferenceResult, predictor: Predictor, count: int) -> Figure:
    """The first ``count`` classified pictures with their top-k characters and confidences (and tags)."""
    files = result.table["file"].tolist()[:count]
    names, probs = result.top_lists(files)
    return prediction_gallery([predictor.load(f) for f in files], names, probs, result.captions(files))


def write_results(result: InferenceResult, predictor: Predictor, folder: Path, out_dir: str | Path, top_k: int,
                  progress: bool = False) -> Path:
    """Write ``predictions.csv``, ``failures.csv``, ``gallery.png`` (the first :data:`SAVED_GALLERY` pictures)
    and an annotated PNG of every classified picture under ``annotated/``, at its path relative to the
    ``folder`` read (so pictures of the same name in two subfolders keep both), each file atomically."""
    out_dir = resolve_path(out_dir)
    atomic_write(out_dir / "predictions.csv", lambda tmp: result.table.to_csv(tmp, index=False))
    atomic_write(out_dir / "failures.csv", lambda tmp: result.failures.to_csv(tmp, index=False))
    for file in progress_bar(result.table["file"], desc="annotating", disable=not progress):
        picture = annotate(predictor.load(file), annotation_lines(result, file, top_k))
        shown = Path(file).relative_to(folder) if Path(file).is_relative_to(folder) else Path(Path(file).name)
        atomic_write((out_dir / "annotated" / shown).with_suffix(".png"),
                     lambda tmp, picture=picture: picture.save(tmp, format="PNG"))
    fig = gallery_figure(result, predictor, SAVED_GALLERY)
    save_figure(fig, out_dir, "gallery.png")
    plt.close(fig)
    return out_dir


__all__ = ["SAVED_GALLERY", "annotate", "annotation_lines", "gallery_figure", "write_results"]
