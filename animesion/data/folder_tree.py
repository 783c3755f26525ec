"""Reading a folder tree of character images: one subfolder per character, tags beside the images or in a CSV."""

from __future__ import annotations

import csv
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from .captions import read_caption
from .images import is_image_file
from .readers import TAG_COLUMN, parse_tags_cell

SIDECAR_SUFFIX = ".txt"
PATH_COLUMNS = ("path", "dir")
TAG_COLUMNS = ("tags", TAG_COLUMN)


@dataclass(frozen=True)
class FoundImage:
    """An image file of the tree: its path relative to the tree's root (POSIX), its character, its tags."""

    rel: str
    class_name: str
    tags: tuple[str, ...] = ()


@dataclass
class FolderScan:
    """What a folder tree holds: the image files by character, and the files that are not images."""

    root: Path
    images: list[FoundImage] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path relative to root, reason)


def _column(header: list[str], names: tuple[str, ...], path: Path) -> str:
    found = next((n for n in names if n in header), None)
    if found is None:
        raise DataError(f"{path}: expected a header with a {' or '.join(names)} column, got {header}.")
    return found


def read_tags_table(path: Path) -> dict[str, tuple[str, ...]]:
    """Tags by image path from a CSV with a ``path`` (or ``dir``) column, relative to the tree's root, and a
    ``tags`` (or ``tags_cat0``) column of comma-separated tags or Python-list strings."""
    if not path.is_file():
        raise DataError(f"Tags file '{path}' does not exist.")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        path_col, tags_col = _column(header, PATH_COLUMNS, path), _column(header, TAG_COLUMNS, path)
        return {Path(row[path_col]).as_posix(): parse_tags_cell(row[tags_col] or "", f"{path}, line {n}")
                for n, row in enumerate(reader, 2)}


def _sidecar_tags(image: Path, undesired: frozenset[str]) -> tuple[str, ...]:
    """The tags of the caption file beside ``image`` (:func:`~.captions.read_caption`), () without one."""
    sidecar = image.with_suffix(SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return ()
    return read_caption(sidecar.read_text(encoding="utf-8", errors="replace"), undesired)


def _visible_files(root: Path) -> list[Path]:
    """Every file under ``root`` in a stable order, leaving out hidden files and folders (``.DS_Store``, ...).

    Symbolically linked folders are followed (a tree of links to character folders is common). A link
    back to a folder already being walked would loop forever, so such a folder is skipped, with one
    warning that names the first of them.
    """
    files, loops = [], []
    for folder, subfolders, names in os.walk(root, followlinks=True):
        here = Path(folder)
        # the folder and its ancestors up to root, as real paths: a folder that is its own ancestor loops
        chain = [os.path.realpath(p) for p in [here, *here.parents][: len(here.parts) - len(root.parts) + 1]]
        if chain[0] in chain[1:]:
            loops.append(folder)
            subfolders.clear()
            continue
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        files += [Path(folder) / n for n in names if not n.startswith(".")]
    if loops:
        warnings.warn(f"{len(loops)} linked folder(s) under {root} point back at a folder above them "
                      f"(first: {loops[0]}); they were skipped.", stacklevel=2)
    return sorted(p for p in files if p.is_file())


def scan_folder_tree(root: Path, tags_csv: Path | None = None, undesired: frozenset[str] = frozenset()) -> FolderScan:
    """List the images of every character folder under ``root`` with their tags.

    Tags come from ``tags_csv`` when given, else from a caption file (``.txt``) with the image's name beside
    it, read as :mod:`.captions` says (one name per tag, ``undesired`` tags left out).
    A file that is neither an image nor such a ``.txt`` is reported in ``skipped``, as is anything lying
    directly in ``root``. Image files are only listed here; decoding them is the next step.
    """
    if not root.is_dir():
        raise DataError(f"input_path '{root}' is not a folder; give a folder with one subfolder per character.")
    table = read_tags_table(tags_csv) if tags_csv else None
    files = _visible_files(root)
    image_stems = {(p.parent, p.stem) for p in files if is_image_file(p)}
    scan = FolderScan(root)
    for path in files:
        rel = path.relative_to(root).as_posix()
        if tags_csv is not None and path.resolve() == tags_csv.resolve():
            continue
        if len(path.relative_to(root).parts) == 1:
            scan.skipped.append((rel, "not inside a character folder"))
        elif is_image_file(path):
            tags = table.get(rel, ()) if table is not None else _sidecar_tags(path, undesired)
            scan.images.append(FoundImage(rel, path.relative_to(root).parts[0], tags))
        elif path.suffix.lower() == SIDECAR_SUFFIX and (path.parent, path.stem) in image_stems:
            continue  # the tags of an image
        else:
            scan.skipped.append((rel, f"not an image file ({path.suffix or 'no extension'})"))
    if not scan.images:
        raise DataError(f"No image files found in the character folders of '{root}'.")
    return scan
