"""Datasets and data loaders: one code path for the synthetic set and every real layout."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image
from torch.utils.data import Dataset, default_collate

from ..errors import DataError, ImageLoadError
from ..paths import resolve_path
from .images import load_rgb
from .layouts import LAYOUTS, Layout
from .legacy_vocab import load_legacy_vocab
from .readers import drop_missing, has_tags, labels_dir, read_class_names, read_split
from .records import Record
from .synthetic import ensure_synthetic
from .tag_set import TagSet
from .vocab import VOCAB_MIN_COUNT, Vocabulary

log = logging.getLogger(__name__)
VAL_FROM_TRAIN = 0.1  # share of train held out for validation when a layout has no val split
CACHE_BUDGET = 1 << 30  # cache_images=None keeps decoded train/val pictures when they take at most 1 GiB


@dataclass
class DatasetSplits:
    """A dataset on disk: its class names, the records of every split, and what was skipped."""

    name: str
    root: Path
    image_root: Path
    class_names: list[str]
    splits: dict[str, list[Record]]
    vocab: Vocabulary | None = None
    problems: list[str] = field(default_factory=list)
    vocab_source: str = ""  # where ``vocab`` came from, in words

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def tagged(self) -> bool:
        """True when the records carry tags (the dataset was read with its tag files)."""
        return self.vocab is not None


def _hold_out_val(train: list[Record], seed: int) -> tuple[list[Record], list[Record]]:
    """Stratified, seeded split of ``train`` into (train, val) for layouts without a val split."""
    by_class: dict[int, list[Record]] = {}
    for r in train:
        by_class.setdefault(r.class_id, []).append(r)
    rng = random.Random(seed)
    kept, val = [], []
    for cid in sorted(by_class):
        items = by_class[cid][:]
        rng.shuffle(items)
        n_val = max(1, int(len(items) * VAL_FROM_TRAIN + 0.5)) if len(items) >= 5 else 0  # small classes: all train
        val += items[:n_val]
        kept += items[n_val:]
    return kept, val


def read_vocab(folder: Path, train: list[Record]) -> tuple[Vocabulary, str]:
    """The tag vocabulary: ``vocab.json``, else a legacy ``vocab.pkl`` (read safely), else built from ``train``."""
    if (folder / "vocab.json").is_file():
        return Vocabulary.from_json(folder / "vocab.json"), f"{folder / 'vocab.json'}"
    if (folder / "vocab.pkl").is_file():
        return load_legacy_vocab(folder / "vocab.pkl"), f"{folder / 'vocab.pkl'} (legacy pickle, read restricted)"
    vocab = Vocabulary.build((r.tags for r in train), min_count=VOCAB_MIN_COUNT)
    return vocab, f"built from the train split's tags (min count {VOCAB_MIN_COUNT})"


def load_dataset(
    dataset_name: str, dataset_path: str | Path, with_tags: bool | None = False, seed: int = 0, progress: bool = True
) -> DatasetSplits:
    """Read (or, for ``synthetic``, draw if missing) the dataset and its train/val/test records.

    ``with_tags``: read the ``{split}_tags.csv`` files and the vocabulary; None reads them when they exist.
    """
    layout: Layout = LAYOUTS.get(dataset_name)
    root = resolve_path(dataset_path)
    if layout.synthetic:
        ensure_synthetic(root, progress=progress)
    elif not root.is_dir():
        raise DataError(
            f"dataset_path '{root}' does not exist; for dataset_name='{dataset_name}' point it at the folder "
            f"that holds '{layout.image_dir}/'" + (f" and '{layout.labels_dir}/'." if layout.labels_dir else ".")
        )
    image_root = root / layout.image_dir
    class_names = read_class_names(root, layout)
    if with_tags is None:
        with_tags = has_tags(root, layout)
    splits, problems = {}, []
    for split in layout.splits:
        records = read_split(root, layout, split, len(class_names), with_tags=with_tags)
        splits[split], missing = drop_missing(records, image_root, split)
        problems += missing
    if "val" not in splits:
        splits["train"], splits["val"] = _hold_out_val(splits["train"], seed)
        log.info("%s has no val split: %d train images are held out for validation.", dataset_name, len(splits["val"]))
    vocab, vocab_source = read_vocab(labels_dir(root, layout), splits["train"]) if with_tags else (None, "")
    return DatasetSplits(dataset_name, root, image_root, class_names, splits, vocab, problems, vocab_source)


class ImageDataset(Dataset):
    """Images of one split as ``{"image", "label", "index"}`` dicts; an unreadable image gives None.
    With a ``tag_set`` (a multi-label tag head's tags) every sample also has ``"tag_targets"`` [tags], its
    tags multi-hot.

    The None is dropped by :func:`collate_skip_bad`, and the file is reported once by name, so one
    bad image never stops a run. ``cache``: keep each decoded picture (as ``load_rgb`` returns it, before
    any random transform) after its first read, so later epochs skip decoding and see the same pixels.
    Each loader worker keeps its own cache, filled in the first epoch (workers persist across epochs).
    """

    def __init__(self, records: Sequence[Record], image_root: Path, transform: Callable, draft_size: int | None = None,
                 cache: bool = False, tag_set: TagSet | None = None):
        self.records = list(records)
        self.tag_set = tag_set
        self.image_root = Path(image_root)
        self.transform = transform
        self.draft_size = draft_size
        self.cache: dict[int, Image.Image] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.records)

    def decoded(self, index: int) -> Image.Image:
        """The decoded picture of record ``index`` (from the cache when it has it); ImageLoadError if unreadable."""
        if self.cache is not None and index in self.cache:
            return self.cache[index]
        image = load_rgb(self.image_root / self.records[index].path, self.draft_size)
        if self.cache is not None:
            self.cache[index] = image
        return image

    def __getitem__(self, index: int) -> dict[str, Any] | None:
        try:
            image = self.decoded(index)
        except ImageLoadError as err:
            log.warning("skipped: %s", err)
            return None
        sample = {"image": self.transform(image), "label": self.records[index].class_id, "index": index}
        if self.tag_set is not None:
            sample["tag_targets"] = self.tag_set.targets(self.records[index])
        return sample


def fits_in_memory(records: Sequence[Record], image_root: Path, draft_size: int | None,
                   budget: int = CACHE_BUDGET) -> bool:
    """Whether the decoded pictures of ``records`` would take at most ``budget`` bytes, estimated from the
    first few (the ``cache_images=None`` rule)."""
    sizes = []
    for record in records[:8]:
        try:
            image = load_rgb(image_root / record.path, draft_size)
        except ImageLoadError:
            continue
        sizes.append(image.width * image.height * len(image.getbands()))
    return bool(sizes) and sum(sizes) / len(sizes) * len(records) <= budget


def collate_skip_bad(batch: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Collate the readable samples of a batch; None when none of them could be read."""
    good = [b for b in batch if b is not None]
    return default_collate(good) if good else None
