"""One labelled image, as the loaders and writers pass it around."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    """An image path (relative to the dataset's image root), its class id and its general tags."""

    path: str
    class_id: int
    tags: tuple[str, ...] = ()
