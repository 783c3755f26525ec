"""Reading any image file as RGB, or failing with a reason that names the file."""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps

from ..errors import DataError, ImageLoadError

# As in the original: a truncated file is decoded as far as it goes instead of being an error.
ImageFile.LOAD_TRUNCATED_IMAGES = True

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jfif", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
MAX_PIXELS = 64_000_000  # refuse decompression bombs: about 8000×8000


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float images → 8-bit grayscale, scaling by the type's range."""
    arr = np.asarray(img)
    if img.mode.startswith("I;16") or (img.mode == "I" and arr.max(initial=0) > 255):
        arr = arr.astype(np.float32) / 257.0
    elif img.mode == "F":
        lo, hi = float(arr.min(initial=0)), float(arr.max(initial=1))
        arr = (arr - lo) / max(hi - lo, 1e-12) * 255.0
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


def to_rgb(img: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Convert any PIL mode to RGB; transparency is composited onto ``background`` (white)."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        img = _to_8bit(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "La", "PA") or (img.mode == "L" and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "RGBa"):
        canvas = Image.new("RGB", img.size, background)
        canvas.paste(img, mask=img.getchannel("A"))
        return canvas
    return img.convert("RGB") if img.mode != "RGB" else img


def load_rgb(path: str | Path, draft_size: int | None = None) -> Image.Image:
    """Open ``path`` as an RGB image with its EXIF orientation applied.

    ``draft_size``: let JPEG decode at a reduced scale when the file is much larger than needed.
    Raises :class:`ImageLoadError` (naming the file) for missing, non-image, corrupt or huge files.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise ImageLoadError(
                        f"{path}: {img.width}×{img.height} pixels is larger than the {MAX_PIXELS:,} allowed."
                    )
                if draft_size and img.format == "JPEG":
                    img.draft("RGB", (draft_size, draft_size))
                img.load()
                img = ImageOps.exif_transpose(img)
                return to_rgb(img)
    except ImageLoadError:
        raise
    except FileNotFoundError:
        raise ImageLoadError(f"{path}: file not found.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError(f"{path}: image is too large (decompression-bomb limit).") from None
    except Exception as err:  # PIL raises many types for bad files
        raise ImageLoadError(f"{path}: not a readable image ({type(err).__name__}: {err}).") from None


def load_rgb_bytes(name: str, content: bytes, draft_size: int | None = None) -> Image.Image:
    """Uploaded ``content`` as an RGB picture, with the checks of :func:`load_rgb`; an error names the upload
    by its own ``name`` (the user knows it by that, not by a temporary copy)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(name).name
        path.write_bytes(content)
        try:
            return load_rgb(path, draft_size=draft_size)
        except ImageLoadError as err:
            raise ImageLoadError(str(err).replace(str(path), name)) from None


# The last bytes a complete file of each format ends with: JPEG's end-of-image marker, PNG's IEND chunk (with
# its CRC), GIF's trailer. A file cut short lacks them; a few bytes of padding after them are allowed.
FILE_ENDINGS = {".jpg": b"\xff\xd9", ".jpeg": b"\xff\xd9", ".jfif": b"\xff\xd9", ".png": b"IEND\xaeB`\x82",
                ".gif": b";"}
TAIL = 64  # bytes searched for the ending
TRUNCATED = "truncated: the end of the file is missing, so the picture was answered from the part that was read"


def truncation_note(name: str | Path, tail: bytes) -> str:
    """:data:`TRUNCATED` when the last bytes ``tail`` of a file named ``name`` lack its format's ending, else ""."""
    ending = FILE_ENDINGS.get(Path(name).suffix.lower())
    return TRUNCATED if ending is not None and ending not in tail[-TAIL:] else ""


def file_tail(path: str | Path) -> bytes:
    """The last :data:`TAIL` bytes of ``path``."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        f.seek(max(f.tell() - TAIL, 0))
        return f.read()


@contextmanager
def strict_decoding() -> Iterator[None]:
    """Within the block, a truncated file is an error instead of being decoded as far as it goes.

    ``02_make_dataset`` validates with it, so a cut-off download is reported rather than kept. PIL reads
    the switch as a module global, so the block must not overlap decoding that should stay lenient.
    """
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous


def load_thumbnails(paths: Sequence[str | Path], size: int) -> tuple[list[Image.Image], list[int], list[str]]:
    """Square ``size``-pixel RGB thumbnails of ``paths``; unreadable files are skipped.

    Returns the thumbnails, the index in ``paths`` of each one, and one message per skipped file.
    """
    images, kept, problems = [], [], []
    for i, path in enumerate(paths):
        try:
            image = load_rgb(path, draft_size=size)
        except ImageLoadError as err:
            problems.append(str(err))
            continue
        images.append(image.resize((size, size), Image.BILINEAR))
        kept.append(i)
    return images, kept, problems


def is_image_file(path: str | Path) -> bool:
    """True when the extension is one of the common image formats."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def picture_files(folder: Path, recursive: bool) -> list[Path]:
    """The picture files (by extension) of ``folder``, and of its subfolders with ``recursive``; hidden ones
    left out, sorted."""
    if not folder.is_dir():
        raise DataError(f"'{folder}' is not a folder of pictures.")
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.is_file() and is_image_file(p)
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))
