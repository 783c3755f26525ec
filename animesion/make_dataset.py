"""``02_make_dataset``: a folder of character images → a clean dataset in the DAF:re faces layout.

Every image is decoded once, strictly (a truncated file is an error here), and written to a staging folder
as it is or shrunk; then characters with too few readable images are left out, the rest are split per
character, and the label files are written. The dataset is assembled in a temporary folder and moved into
place at the end, so a failed run never leaves half a dataset behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from PIL import Image

from .config.make_dataset import DEMO_INPUT, MakeDatasetConfig
from .data.captions import read_undesired
from .data.dataset import load_dataset
from .data.demo_tree import make_demo_tree
from .data.folder_tree import FoundImage, scan_folder_tree
from .data.images import load_rgb, load_thumbnails, strict_decoding
from .data.layout_writer import write_daf_labels
from .data.layouts import SPLITS
from .data.records import Record
from .data.splitting import stratified_split
from .data.synthetic import SyntheticConfig, ensure_synthetic
from .data.vocab import Vocabulary
from .errors import DataError, ImageLoadError
from .paths import resolve_path
from .plots.images import image_grid
from .utils.progress import progress_bar

MANIFEST = "make_dataset.json"
REPORT_DIR = "report"
IMAGE_DIR, LABELS_DIR = "faces", "labels"  # the DAF:re faces layout, read back as dataset_name=danbooruFaces


@dataclass
class MadeDataset:
    """A dataset that ``02_make_dataset`` wrote, and what it left out on the way."""

    root: Path
    dataset_name: str  # the dataset_name that reads it back
    class_names: list[str]
    splits: dict[str, list[Record]]
    skipped: pd.DataFrame  # path (relative to the input folder), reason
    dropped: pd.DataFrame  # class_name, images: characters below min_images_per_class
    image_dir: str = IMAGE_DIR

    def summary(self) -> pd.DataFrame:
        """Images, characters and tagged images per split, and in total."""
        rows = {split: [len(recs), len({r.class_id for r in recs}), sum(bool(r.tags) for r in recs)]
                for split, recs in self.splits.items()}
        rows["total"] = [sum(r[0] for r in rows.values()), len(self.class_names), sum(r[2] for r in rows.values())]
        return pd.DataFrame.from_dict(rows, orient="index", columns=["images", "characters", "tagged images"])

    def class_table(self) -> pd.DataFrame:
        """Images per character and split."""
        table = pd.DataFrame(0, index=pd.Index(self.class_names, name="character"), columns=list(self.splits))
        for split, recs in self.splits.items():
            for r in recs:
                table.loc[self.class_names[r.class_id], split] += 1
        return table


def _check_paths(input_root: Path, out_root: Path) -> None:
    inside = input_root == out_root or input_root in out_root.parents or out_root in input_root.parents
    if inside:
        raise DataError(f"dataset_path '{out_root}' and input_path '{input_root}' must not contain each other.")
    if out_root.exists() and any(out_root.iterdir()) and not (out_root / MANIFEST).is_file():
        raise DataError(f"'{out_root}' holds files that 02_make_dataset did not write; choose an empty dataset_path.")


def _shrunk(image: Image.Image, short_side: int) -> Image.Image:
    """``image`` scaled down so its short side is ``short_side`` (never scaled up)."""
    scale = short_side / min(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.BICUBIC, reducing_gap=3.0)


def _stage(found: FoundImage, source: Path, staged: Path, short_side: int) -> str | None:
    """Decode ``source`` strictly and write it to ``staged``; return why it was skipped, or None."""
    try:
        image = load_rgb(source, draft_size=short_side or None)
    except ImageLoadError as err:
        return str(err).removeprefix(f"{source}: ")
    if short_side:
        _shrunk(image, short_side).save(staged, quality=95)
    else:
        shutil.copyfile(source, staged)
    return None


def _target_name(found: FoundImage, short_side: int, used: set[str]) -> str:
    """File name inside the character's folder: the path below the character folder, flattened."""
    below = Path(*Path(found.rel).parts[1:])
    name = "__".join(below.parts)
    if short_side:
        name = str(Path(name).with_suffix(".jpg"))
    stem, suffix, n = Path(name).stem, Path(name).suffix, 1
    while name in used:
        name, n = f"{stem}_{n}{suffix}", n + 1
    used.add(name)
    return name


def _stage_all(images: list[FoundImage], input_root: Path, staging: Path, config: MakeDatasetConfig,
               progress: bool) -> tuple[dict[int, Path], list[tuple[str, str]]]:
    """Decode and stage every image (in threads when ``no_cpu_workers`` > 0); return the staged files by
    index in ``images`` and the (path, reason) of each unreadable one."""
    staging.mkdir(parents=True)
    targets = [staging / f"{i:07d}{'.jpg' if config.resize_short_side else Path(f.rel).suffix.lower()}"
               for i, f in enumerate(images)]

    def work(i: int) -> str | None:
        return _stage(images[i], input_root / images[i].rel, targets[i], config.resize_short_side)

    mapper: Callable = map
    pool = ThreadPoolExecutor(config.no_cpu_workers) if config.no_cpu_workers else None
    if pool is not None:
        mapper = pool.map  # decoding releases the GIL, so threads overlap
    try:
        with strict_decoding():
            reasons = list(progress_bar(mapper(work, range(len(images))), total=len(images), desc="checking images",
                                disable=not progress))
    finally:
        if pool is not None:
            pool.shutdown()
    staged = {i: targets[i] for i, reason in enumerate(reasons) if reason is None}
    bad = [(images[i].rel, reason) for i, reason in enumerate(reasons) if reason is not None]
    return staged, bad


def _make_from_folder(config: MakeDatasetConfig, progress: bool) -> MadeDataset:
    input_root, out_root = resolve_path(config.input_path), resolve_path(config.dataset_path)
    if config.input_path == DEMO_INPUT and not input_root.exists():
        make_demo_tree(input_root)
    _check_paths(input_root, out_root)
    scan = scan_folder_tree(input_root, resolve_path(config.tags_csv) if config.tags_csv else None,
                            read_undesired(config.undesired_tags))
    out_root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_root.name}-", dir=out_root.parent))
    try:
        staged, bad = _stage_all(scan.images, input_root, tmp / "staging", config, progress)
        by_class: dict[str, list[int]] = {}
        for i in sorted(staged, key=lambda i: scan.images[i].rel):
            by_class.setdefault(scan.images[i].class_name, []).append(i)
        all_classes = sorted({f.class_name for f in scan.images})
        dropped = {c: len(by_class.get(c, [])) for c in all_classes
                   if len(by_class.get(c, [])) < config.min_images_per_class}
        class_names = [c for c in all_classes if c not in dropped]
        if not class_names:
            raise DataError(f"No character in '{input_root}' has {config.min_images_per_class} readable images "
                            "(min_images_per_class).")
        parts = stratified_split({c: by_class[c] for c in class_names}, config.val_percent, config.test_percent,
                                 config.seed)
        splits: dict[str, list[Record]] = {s: [] for s in SPLITS}
        for class_id, name in enumerate(class_names):
            folder, used = tmp / IMAGE_DIR / f"{class_id:04d}", set()
            folder.mkdir(parents=True)
            for split in SPLITS:
                for i in parts[name][split]:
                    rel = f"{class_id:04d}/{_target_name(scan.images[i], config.resize_short_side, used)}"
                    os.replace(staged[i], tmp / IMAGE_DIR / rel)
                    splits[split].append(Record(rel, class_id, scan.images[i].tags))
        shutil.rmtree(tmp / "staging")
        tagged = any(r.tags for recs in splits.values() for r in recs)
        vocab = Vocabulary.build((r.tags for r in splits["train"]), config.min_tag_count) if tagged else None
        write_daf_labels(tmp / LABELS_DIR, splits, class_names, vocab)
        skipped = pd.DataFrame(scan.skipped + bad, columns=["path", "reason"]).sort_values("path", ignore_index=True)
        dropped_table = pd.DataFrame(list(dropped.items()), columns=["class_name", "images"])
        made = MadeDataset(out_root, "danbooruFaces", class_names, splits, skipped, dropped_table)
        _write_report(tmp, made, config)
        if out_root.exists():
            shutil.rmtree(out_root)
        tmp.rename(out_root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return made


def _write_report(folder: Path, made: MadeDataset, config: MakeDatasetConfig) -> None:
    report = folder / REPORT_DIR
    report.mkdir()
    made.skipped.to_csv(report / "skipped_files.csv", index=False)
    made.dropped.to_csv(report / "dropped_classes.csv", index=False)
    made.summary().to_csv(report / "summary.csv", index_label="split")
    manifest = {"parameters": config.to_dict(), "dataset_name": made.dataset_name,
                "images": {s: len(r) for s, r in made.splits.items()}, "characters": len(made.class_names),
                "skipped_files": len(made.skipped), "dropped_classes": made.dropped["class_name"].tolist()}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1))


def _make_synthetic(config: MakeDatasetConfig, progress: bool) -> MadeDataset:
    spec = SyntheticConfig(no_classes=config.no_classes, images_per_class=config.images_per_class,
                           picture_size=config.picture_size, seed=config.seed, val_percent=config.val_percent,
                           test_percent=config.test_percent)
    root = ensure_synthetic(resolve_path(config.dataset_path), spec, progress=progress)
    data = load_dataset("synthetic", root, with_tags=True, progress=progress)
    return MadeDataset(root, "synthetic", data.class_names, data.splits, pd.DataFrame(columns=["path", "reason"]),
                       pd.DataFrame(columns=["class_name", "images"]), image_dir=data.image_root.name)


def make_dataset(config: MakeDatasetConfig, progress: bool = True) -> MadeDataset:
    """Make the dataset that ``config`` describes and return what was written and what was left out."""
    if config.source == "synthetic":
        return _make_synthetic(config, progress)
    return _make_from_folder(config, progress)


def sample_grid(made: MadeDataset, max_classes: int = 16) -> Figure:
    """The first training image of each of the first ``max_classes`` characters, labelled with its name."""
    firsts: dict[int, Record] = {}
    for r in made.splits["train"]:
        firsts.setdefault(r.class_id, r)
    shown = [firsts[c] for c in sorted(firsts)[:max_classes]]
    images, kept, _ = load_thumbnails([made.root / made.image_dir / r.path for r in shown], 128)
    fig = image_grid(images, [made.class_names[shown[i].class_id] for i in kept], ncols=8, size=1.5, fontsize=6)
    fig.suptitle(f"{len(made.class_names)} characters, {sum(len(s) for s in made.splits.values())} images", y=1.02)
    return fig
