"""The JPEG images the benchmarks read: a real face-crop set when present, else the synthetic set at 256 px.

Nothing here is committed: generated files go to ``outputs/bench/`` and are reused by later runs.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from tqdm.auto import tqdm

from animesion.data.images import is_image_file
from animesion.data.synthetic import SyntheticConfig, ensure_synthetic
from animesion.paths import resolve_path

# A synthetic stand-in for a real set: 20 characters × 16 pictures of 256 px.
SYNTHETIC_256 = SyntheticConfig(no_classes=20, images_per_class=16, picture_size=256, seed=0)


@dataclass
class JpegSet:
    """Image files with integer labels (one class per folder) and where they came from."""

    files: list[Path]
    labels: list[int]
    source: str

    def head(self, count: int) -> JpegSet:
        """The first ``count`` images taken round-robin over classes, so every subset mixes characters."""
        seen: Counter[int] = Counter()
        rank = []  # position of each image within its class
        for label in self.labels:
            rank.append(seen[label])
            seen[label] += 1
        picked = sorted(range(len(self.labels)), key=lambda i: (rank[i], self.labels[i]))[:count]
        return JpegSet([self.files[i] for i in picked], [self.labels[i] for i in picked], self.source)

    @property
    def num_classes(self) -> int:
        return max(self.labels) + 1


def work_dir() -> Path:
    """``outputs/bench/``: generated data and caches of the benchmarks (ignored by git)."""
    path = resolve_path("outputs/bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


DATA_HELP = ("folder of real pictures, one subfolder per character (any such tree: your own crops, or a "
             "dataset's train folders); default $ANIMESION_BENCH_DATA")


def default_data_dir() -> Path | None:
    """Real pictures, one subfolder per character, named by ``$ANIMESION_BENCH_DATA`` (None when unset)."""
    named = os.environ.get("ANIMESION_BENCH_DATA", "")
    return Path(named) if named else None


def folder_per_class(root: Path, source: str) -> JpegSet:
    """Every image under ``root/<class>/``, labelled by the sorted class folders."""
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    files, labels = [], []
    for label, folder in enumerate(classes):
        found = sorted(p for p in folder.iterdir() if is_image_file(p))
        files += found
        labels += [label] * len(found)
    return JpegSet(files, labels, source)


def load_jpegs(data_dir: str | Path | None = None) -> JpegSet:
    """The benchmark images: ``data_dir`` (or the default real set) when present, else synthetic 256-px JPEGs."""
    path = Path(data_dir) if data_dir else default_data_dir()
    if path is not None and path.is_dir():
        return folder_per_class(path, f"{path} (real JPEG face crops)")
    root = ensure_synthetic(work_dir() / "synthetic256", SYNTHETIC_256, progress=True)
    return folder_per_class(root / "faces", f"synthetic set at {SYNTHETIC_256.picture_size} px (generated)")


def resized_copies(images: JpegSet, short_side: int, name: str, quality: int = 95) -> JpegSet:
    """Copies with the short side scaled to ``short_side`` px (reused when already there).

    Shrinking is what ``02_make_dataset``'s optional pre-resized cache does; enlarging makes the big
    files on which reduced-size decoding shows its effect.
    """
    dest = work_dir() / name
    out = []
    for i, path in enumerate(tqdm(images.files, desc=f"writing {name}", leave=False)):
        target = dest / f"{images.labels[i]:04d}" / f"{i:06d}.jpg"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            with Image.open(path) as img:
                img = img.convert("RGB")
                scale = short_side / min(img.size)
                img = img.resize((round(img.width * scale), round(img.height * scale)), Image.BICUBIC)
                img.save(target, quality=quality)
        out.append(target)
    return JpegSet(out, list(images.labels), f"{images.source}, short side {short_side} px")
