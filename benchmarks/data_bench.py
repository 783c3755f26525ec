"""Data loading: decoding and augmenting JPEGs the naive way, with reduced-size decoding, from a
pre-resized cache, and with background workers."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from animesion.data.augment import train_transform
from animesion.data.dataset import ImageDataset
from animesion.data.records import Record
from animesion.performance import auto_workers
from animesion.training.sampling import make_train_loader

from .jpegs import JpegSet, resized_copies
from .reference import naive_loader
from .report import Section, Table, ratio
from .timing import Work, interleaved_rates

IMAGE_SIZE = 128
DRAFT_SIZE = IMAGE_SIZE + 32  # the trainer's Resize(s + 32) before the random crop
CACHE_SIDE = IMAGE_SIZE + 32
LARGE_SIDE = 1024
BATCH_SIZE = 32


def package_loader(images: JpegSet, workers: int) -> DataLoader:
    """The workbook's training loader: ``load_rgb`` with reduced-size decoding, workers as given."""
    root = images.files[0].parent.parent
    records = [Record(str(f.relative_to(root)), label) for f, label in zip(images.files, images.labels)]
    # The original recipe's augmentation (resize, crop, flip, jitter), as the naive reference does
    dataset = ImageDataset(records, root, train_transform(IMAGE_SIZE, aa="jitter", scale=None), draft_size=DRAFT_SIZE)
    return make_train_loader(dataset, BATCH_SIZE, workers, seed=0)


def epoch(loader: DataLoader) -> Work:
    """One pass over ``loader``; returns the number of images."""

    def work() -> int:
        return sum(len(batch["label"]) for batch in loader if batch is not None)

    return work


def run(images: JpegSet, device: torch.device, count: int, rounds: int) -> Section:
    """Images per second of each way of loading ``count`` training images (decode, augment, collate)."""
    subset = images.head(count)
    cache = resized_copies(subset, CACHE_SIDE, f"cache{CACHE_SIDE}")
    large = resized_copies(subset.head(max(count // 4, 8)), LARGE_SIDE, f"large{LARGE_SIDE}", quality=90)
    workers = auto_workers(device_type=device.type)
    candidates = {
        "naive: full decode + resize per sample": epoch(naive_loader(subset.files, subset.labels, IMAGE_SIZE,
                                                                     BATCH_SIZE)),
        "load_rgb with reduced-size decode": epoch(package_loader(subset, 0)),
        f"pre-resized cache (short side {CACHE_SIDE} px)": epoch(package_loader(cache, 0)),
        f"pre-resized cache + {workers} worker(s) (auto)": epoch(package_loader(cache, workers)),
        f"naive on {LARGE_SIDE}-px files": epoch(naive_loader(large.files, large.labels, IMAGE_SIZE, BATCH_SIZE)),
        f"reduced-size decode of {LARGE_SIDE}-px files": epoch(package_loader(large, 0)),
    }
    rates = interleaved_rates(candidates, rounds, device, warmup=1)
    naive = rates["naive: full decode + resize per sample"].best
    naive_large = rates[f"naive on {LARGE_SIDE}-px files"].best
    table = Table(f"Loading training images at {IMAGE_SIZE} px ({len(subset.files)} files; {images.source})",
                  ["pipeline", "images/s", "vs naive"])
    for name, rate in rates.items():
        base = naive_large if str(LARGE_SIDE) in name else naive
        table.rows.append([name, f"{rate.best:.0f}", ratio(rate.best, base)])
    table.notes += [
        "Every row decodes, resizes to 160 px, random-crops to 128 px, flips, colour-jitters, normalises and "
        "collates batches of 32: the training transform of the original.",
        f"Reduced-size decoding (`Image.draft`) asks the JPEG decoder for a 1/2, 1/4 or 1/8 scale that is still "
        f"at least {DRAFT_SIZE} px, so it cannot shrink 256-px files but decodes {LARGE_SIDE}-px files at 256 px.",
        "The cache rows read copies whose short side is 160 px, as `02_make_dataset` writes with its "
        "optional pre-resizing; on CUDA the loader also pins memory.",
        "Workers run while the main process idles here; in training they share the cores with the model.",
    ]
    return Section("Data loading", [table])
