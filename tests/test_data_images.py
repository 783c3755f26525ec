"""Any common image file is read as RGB, and a bad one fails with a message that names it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from animesion.data import images
from animesion.data.images import load_rgb, load_thumbnails, strict_decoding
from animesion.errors import ImageLoadError


def _save(image: Image.Image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def test_transparency_is_composited_on_white(tmp_path):
    rgba = Image.new("RGBA", (8, 8), (255, 0, 0, 0))  # fully transparent red
    rgba.putpixel((0, 0), (0, 0, 255, 255))
    out = load_rgb(_save(rgba, tmp_path / "a.png"))
    assert out.mode == "RGB"
    assert out.getpixel((5, 5)) == (255, 255, 255) and out.getpixel((0, 0)) == (0, 0, 255)


def test_palette_with_transparency_and_la(tmp_path):
    palette = Image.new("P", (6, 6), 1)
    palette.putpalette([0, 0, 0, 10, 200, 30] + [0] * 762)
    palette.putpixel((0, 0), 0)
    out = load_rgb(_save(palette, tmp_path / "p.png", transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255) and out.getpixel((3, 3)) == (10, 200, 30)
    la = Image.new("LA", (4, 4), (50, 0))
    assert load_rgb(_save(la, tmp_path / "la.png")).getpixel((1, 1)) == (255, 255, 255)


def test_grayscale_cmyk_and_16_bit(tmp_path):
    gray = load_rgb(_save(Image.new("L", (5, 5), 77), tmp_path / "g.jpg", quality=100))
    assert gray.mode == "RGB" and abs(gray.getpixel((2, 2))[0] - 77) <= 2
    cmyk = load_rgb(_save(Image.new("CMYK", (5, 5), (0, 255, 255, 0)), tmp_path / "c.jpg", quality=100))
    r, g, b = cmyk.getpixel((2, 2))
    assert cmyk.mode == "RGB" and r > 200 and g < 60 and b < 60  # pure red in CMYK
    deep = Image.fromarray(np.full((5, 5), 51400, dtype=np.uint16))  # 200 × 257: 16-bit gray
    out = load_rgb(_save(deep, tmp_path / "d.png"))
    assert out.mode == "RGB" and out.getpixel((2, 2)) == (200, 200, 200)


def test_jfif_and_exif_orientation(tmp_path):
    wide = Image.new("RGB", (30, 10), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    out = load_rgb(_save(wide, tmp_path / "photo.jfif", format="JPEG", exif=exif))
    assert out.size == (10, 30)


def test_truncated_files_load_leniently_but_not_strictly(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) * 6 // 10])
    assert load_rgb(path).size == (64, 64)  # as the original: decoded as far as it goes
    with strict_decoding(), pytest.raises(ImageLoadError, match="cut.png"):
        load_rgb(path)
    assert load_rgb(path).size == (64, 64)  # the lenient default is back


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    with pytest.raises(ImageLoadError, match=r"big.png: 20×20 pixels is larger than the 100 allowed"):
        load_rgb(_save(Image.new("RGB", (20, 20)), tmp_path / "big.png"))


def test_missing_and_non_image_files_name_the_path(tmp_path):
    with pytest.raises(ImageLoadError, match="gone.jpg: file not found"):
        load_rgb(tmp_path / "gone.jpg")
    (tmp_path / "text.jpg").write_text("hello")
    with pytest.raises(ImageLoadError, match="text.jpg: not a readable image"):
        load_rgb(tmp_path / "text.jpg")


def test_thumbnails_skip_bad_files(tmp_path):
    good = _save(Image.new("RGB", (50, 20), (1, 2, 3)), tmp_path / "ok.png")
    (tmp_path / "bad.png").write_text("nope")
    thumbs, kept, problems = load_thumbnails([tmp_path / "bad.png", good], 16)
    assert kept == [1] and thumbs[0].size == (16, 16) and len(problems) == 1 and "bad.png" in problems[0]
