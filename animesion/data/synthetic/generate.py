"""Write the synthetic dataset to disk in the DAF:re faces layout, with tags and a vocabulary."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from pathlib import Path

from PIL import Image

from ...errors import DataError
from ...utils.progress import progress_bar
from ..layout_writer import write_daf_labels
from ..records import Record
from ..vocab import Vocabulary
from .characters import EXPRESSIONS, Character, make_cast
from .drawing import draw_character, random_pose
from .spec import SyntheticConfig

MANIFEST = "synthetic.json"
FORMAT_VERSION = 1  # bump when the drawing changes, so cached datasets are redrawn


def _manifest(spec: SyntheticConfig) -> dict:
    return {"format_version": FORMAT_VERSION, **spec.to_dict()}


def read_manifest(root: str | Path) -> dict | None:
    """The generation parameters of the synthetic dataset at ``root``, or None if there is none."""
    path = Path(root) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def _same_drawing(manifest: dict, spec: SyntheticConfig) -> bool:
    """Whether a dataset with ``manifest`` is what ``spec`` draws (older manifests converted first)."""
    drawn = SyntheticConfig.from_manifest(manifest)
    return manifest.get("format_version") == FORMAT_VERSION and drawn == spec


def read_spec(root: str | Path) -> SyntheticConfig | None:
    """The :class:`SyntheticConfig` the synthetic dataset at ``root`` was drawn with, or None."""
    manifest = read_manifest(root)
    return None if manifest is None else SyntheticConfig.from_manifest(manifest)


def draw_sample(character: Character, rng: random.Random, size: int) -> tuple[Image.Image, list[str]]:
    """One random picture of ``character`` and its Danbooru-style tags."""
    pose = random_pose(rng, EXPRESSIONS)
    return draw_character(character, pose, size), character.tags(pose.expression, pose.show_accessory)


def _split_records(records: list[Record], spec: SyntheticConfig) -> dict[str, list[Record]]:
    # Records of one character are consecutive and already in random order: cut each class in three.
    n = spec.images_per_class
    n_val, n_test = max(1, round(n * spec.val_percent)), max(1, round(n * spec.test_percent))
    splits: dict[str, list[Record]] = {"train": [], "val": [], "test": []}
    for start in range(0, len(records), n):
        chunk = records[start : start + n]
        splits["val"] += chunk[:n_val]
        splits["test"] += chunk[n_val : n_val + n_test]
        splits["train"] += chunk[n_val + n_test :]
    return splits


def generate_synthetic(root: str | Path, spec: SyntheticConfig | None = None, progress: bool = True) -> Path:
    """Draw the dataset described by ``spec`` into ``root`` (replacing an older synthetic set there).

    The files are written to a temporary folder first and moved into place at the end, so an
    interrupted generation never leaves a half-written dataset behind.
    """
    spec = spec or SyntheticConfig()
    root = Path(root)
    if root.exists() and any(root.iterdir()) and read_manifest(root) is None:
        raise DataError(f"'{root}' holds files that are not a synthetic dataset; choose an empty dataset_path.")
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        cast = make_cast(spec.no_classes, spec.seed)
        records: list[Record] = []
        bar = progress_bar(total=spec.no_classes * spec.images_per_class, desc="drawing synthetic set",
                           disable=not progress)
        for class_id, character in enumerate(cast):
            folder = tmp / "faces" / f"{class_id:04d}"
            folder.mkdir(parents=True)
            rng = random.Random(f"{spec.seed}-{class_id}")
            for i in range(spec.images_per_class):
                image, tags = draw_sample(character, rng, spec.picture_size)
                rel = f"{class_id:04d}/{class_id:04d}_{i:05d}.jpg"
                image.save(tmp / "faces" / rel, quality=90)
                records.append(Record(rel, class_id, tuple(tags)))
                bar.update()
        bar.close()
        splits = _split_records(records, spec)
        vocab = Vocabulary.build((r.tags for r in splits["train"]), min_count=2)
        write_daf_labels(tmp / "labels", splits, [c.name for c in cast], vocab, copyright_tag="animesion_synthetic")
        with open(tmp / "labels" / "characters.json", "w") as f:
            json.dump([{"name": c.name, **c.attributes()} for c in cast], f, indent=1)
        (tmp / MANIFEST).write_text(json.dumps(_manifest(spec), indent=1))
        if root.exists():
            shutil.rmtree(root)
        tmp.rename(root)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return root


def ensure_synthetic(root: str | Path, spec: SyntheticConfig | None = None, progress: bool = True) -> Path:
    """Make sure a synthetic dataset is at ``root``; draw it only when missing or when ``spec`` differs.

    With ``spec=None`` any synthetic dataset already at ``root`` is used as it is (so a small test set
    is not redrawn at the default size), and a missing one is drawn with the default parameters.
    """
    manifest = read_manifest(root)
    if manifest is not None and (spec is None or _same_drawing(manifest, spec)):
        return Path(root)
    return generate_synthetic(root, spec, progress=progress)
