"""A whole split as an animated GIF, one grid of images per frame, written frame by frame.

PIL's ``save_all`` keeps every frame in memory; a DAF:re split has thousands of frames, so frames are
encoded one at a time with PIL's GIF frame writer (``GifImagePlugin.getheader`` / ``getdata``) instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import GifImagePlugin, Image, ImageDraw, ImageFont

from ..errors import ImageLoadError
from ..utils.progress import progress_bar
from .images import load_rgb
from .records import Record

log = logging.getLogger(__name__)
LABEL_HEIGHT = 14  # pixels of text under each tile when it is labelled


def grid_frame(images: Sequence[Image.Image], titles: Sequence[str] | None, ncols: int, tile: int,
               slots: int | None = None) -> Image.Image:
    """Paste square ``tile``-pixel thumbnails on a white canvas, ``ncols`` per row, with a title under each.

    ``slots``: size the canvas for this many images, so a last, short batch gives a frame of the same size.
    """
    label = LABEL_HEIGHT if titles is not None else 0
    nrows = max(1, math.ceil(max(slots or 0, len(images)) / ncols))
    canvas = Image.new("RGB", (ncols * tile, nrows * (tile + label)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=10)
    for i, image in enumerate(images):
        x, y = (i % ncols) * tile, (i // ncols) * (tile + label)
        canvas.paste(image.resize((tile, tile), Image.BILINEAR), (x, y))
        if titles is not None:
            text = titles[i]
            while text and draw.textlength(text, font=font) > tile - 2:
                text = text[:-1]
            draw.text((x + 1, y + tile), text, fill=(0, 0, 0), font=font)
    return canvas


def _frames(records: Sequence[Record], image_root: Path, class_names: Sequence[str], batch_size: int, tile: int,
            labels: bool, problems: list[str]) -> Iterator[Image.Image]:
    ncols = max(1, math.floor(math.sqrt(batch_size)))  # as the original: a square-ish grid per batch
    for start in range(0, len(records), batch_size):
        images, titles = [], []
        for record in records[start : start + batch_size]:
            try:
                images.append(load_rgb(image_root / record.path, draft_size=tile))
            except ImageLoadError as err:
                problems.append(str(err))
                continue
            titles.append(class_names[record.class_id])
        if images:
            yield grid_frame(images, titles if labels else None, ncols, tile, slots=batch_size)


def write_split_animation(records: Sequence[Record], image_root: Path, class_names: Sequence[str], path: Path,
                          batch_size: int = 64, tile: int = 128, labels: bool = False, fps: float = 1.0,
                          progress: bool = True) -> tuple[Path, list[str]]:
    """Write every image of ``records`` (in order) to the animated GIF ``path``, ``batch_size`` per frame.

    Returns the path and the unreadable files that were left out (one message each).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    duration = int(round(1000 / fps))
    frames = _frames(records, image_root, class_names, batch_size, tile, labels, problems)
    total = math.ceil(len(records) / batch_size)
    tmp = path.with_name(path.name + ".part")
    written = 0
    with open(tmp, "wb") as f:
        for frame in progress_bar(frames, total=total, desc="animation frames", disable=not progress):
            # each frame carries its own palette; fast octree is ~25× quicker than median cut here
            paletted = frame.quantize(256, method=Image.Quantize.FASTOCTREE)
            if written == 0:
                header, _ = GifImagePlugin.getheader(paletted, info={"loop": 0})
                f.writelines(header)
            f.writelines(GifImagePlugin.getdata(paletted, duration=duration, include_color_table=True))
            written += 1
        f.write(b";")  # GIF trailer
    if written == 0:
        tmp.unlink()
        raise ImageLoadError(f"None of the {len(records)} images could be read, so no animation was written.")
    tmp.replace(path)
    log.info("wrote %d frames to %s", written, path)
    return path, problems
