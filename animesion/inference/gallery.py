"""Enrolment: characters a checkpoint was never trained on, recognised from a few pictures each.

A gallery folder has one subfolder of pictures per character, the tree ``02_make_dataset`` reads. Each
character's pictures are embedded by the predictor and averaged into a prototype in the checkpoint's
open-set space (:mod:`animesion.prediction.open_set`). The gallery is saved as a safetensors file (the
prototypes, with the names, picture counts and the checkpoint's fingerprint as JSON in its header), so
enrolling once serves many runs (``gallery_file``); a gallery made with another checkpoint is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..atomic import atomic_write
from ..data.folder_tree import scan_folder_tree
from ..errors import CheckpointError, DataError
from ..paths import resolve_path
from ..prediction.files import predict_files
from ..prediction.open_set import OpenSet, Prototypes
from ..prediction.predictor import Predictor

log = logging.getLogger(__name__)
FORMAT = "animesion-gallery-1"
MIN_PICTURES = 2  # one picture is no average: such a character is reported and left out


@dataclass
class Enrolment:
    """The enrolled characters and what was left out: ``problems`` holds one line per unreadable picture,
    empty folder and character with a single picture, by name."""

    gallery: Prototypes
    problems: list[str] = field(default_factory=list)


def fingerprint(open_set: OpenSet) -> str:
    """Names the embedding space of a calibrated checkpoint (prototypes only compare within one space)."""
    space = torch.cat([open_set.center.flatten(), open_set.whiten.flatten()]).float().cpu()
    return hashlib.sha1(space.numpy().tobytes()).hexdigest()[:16]


def require_open_set(predictor: Predictor, what: str) -> OpenSet:
    """The predictor's calibration, or one sentence saying that ``what`` needs a calibrated checkpoint."""
    if predictor.open_set is None:
        raise CheckpointError(f"{what} needs a checkpoint calibrated at the end of training (03_train of this "
                              "version does it); this checkpoint has no calibration, so train it again.")
    return predictor.open_set


def enrol(predictor: Predictor, folder: str | Path, batch_size: int = 32, progress: bool = True) -> Enrolment:
    """Enrol every character subfolder of ``folder``; unreadable pictures and thin characters are reported."""
    open_set = require_open_set(predictor, "gallery_path")
    root = resolve_path(folder)
    scan = scan_folder_tree(root)
    problems = [f"{root / rel}: {reason}" for rel, reason in scan.skipped]
    result = predict_files(predictor, [root / found.rel for found in scan.images], batch_size, top_k=1,
                           threshold=0, progress=progress)
    problems += [f"{row.file}: {row.reason}" for row in result.failures.itertuples()]
    character = {str(root / found.rel): found.class_name for found in scan.images}
    read = [character[f] for f in result.table["file"]]
    folders = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    names = []
    for name in folders:
        count = read.count(name)
        if count == 0:
            problems.append(f"{root / name}: no readable picture, so the character is not enrolled.")
        elif count < MIN_PICTURES:
            problems.append(f"{root / name}: only {count} readable picture; enrolling needs {MIN_PICTURES} or more.")
        else:
            names.append(name)
    keep = [i for i, n in enumerate(read) if n in names]
    if not names:
        raise DataError(f"No character of '{root}' has {MIN_PICTURES} readable pictures to enrol.")
    labels = torch.tensor([names.index(read[i]) for i in keep])
    gallery = open_set.enrolled(result.embeddings[keep], labels, names)
    for problem in problems:
        log.warning("gallery: %s", problem)
    return Enrolment(gallery, problems)


def enrol_pictures(predictor: Predictor, name: str, pictures: list) -> Prototypes:
    """One character enrolled from decoded pictures (PIL images), e.g. uploads; needs ``MIN_PICTURES``."""
    open_set = require_open_set(predictor, "Enrolling")
    if len(pictures) < MIN_PICTURES:
        raise DataError(f"'{name}' has {len(pictures)} readable picture(s); enrolling needs {MIN_PICTURES} or more.")
    return open_set.enrolled(predictor.embeddings(pictures), torch.zeros(len(pictures), dtype=torch.long), [name])


def with_character(gallery: Prototypes | None, character: Prototypes) -> Prototypes:
    """``gallery`` with ``character`` added, replacing an earlier enrolment of the same name."""
    if gallery is None:
        return character
    return gallery.select([i for i, n in enumerate(gallery.names) if n not in character.names]) + character


def save_gallery(gallery: Prototypes, path: str | Path, open_set: OpenSet) -> Path:
    """Write the gallery (atomically) for ``gallery_file``."""
    meta = {"format": FORMAT, "names": json.dumps(gallery.names), "counts": json.dumps(gallery.counts),
            "fingerprint": fingerprint(open_set)}
    tensors = {"prototypes": gallery.vectors.detach().cpu().contiguous()}
    if gallery.joined is not None:  # the enrolled characters' prototypes joined to their colours
        tensors["joined"] = gallery.joined.detach().cpu().contiguous()
    if gallery.genuine is not None:  # their pictures' leave-one-out scores, which set the gallery's threshold
        tensors["genuine"] = gallery.genuine.detach().cpu().contiguous()
    return atomic_write(resolve_path(path), lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_gallery(path: str | Path, open_set: OpenSet) -> Prototypes:
    """A gallery written by :func:`save_gallery` for the same checkpoint; anything else is one sentence."""
    path = resolve_path(path)
    if not path.is_file():
        raise DataError(f"gallery_file '{path}' does not exist; enrol characters with gallery_path first.")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta, vectors = f.metadata() or {}, f.get_tensor("prototypes")
            # galleries enrolled without a colour calibration (or before colour) rank by the embedding alone
            joined = f.get_tensor("joined") if "joined" in f.keys() else None
            genuine = f.get_tensor("genuine") if "genuine" in f.keys() else None  # None: written before it
    except Exception as err:  # any failure means the file is not a gallery
        raise DataError(f"gallery_file '{path}' is not a readable gallery ({err}).") from None
    if meta.get("format") != FORMAT:
        raise DataError(f"gallery_file '{path}' is a safetensors file but not an Animesion gallery.")
    if meta.get("fingerprint") != fingerprint(open_set):
        raise DataError(f"gallery_file '{path}' was enrolled with another checkpoint; enrol again with gallery_path.")
    return Prototypes(json.loads(meta["names"]), vectors, json.loads(meta["counts"]), joined, genuine)


__all__ = ["Enrolment", "enrol", "enrol_pictures", "fingerprint", "load_gallery", "require_open_set", "save_gallery",
           "with_character"]
