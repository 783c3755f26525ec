"""One labelled image, as the loaders and writers pass it around."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Record:
    """An image path (relative to the dataset's image root), its class id, its general tags (Danbooru's
    category 0, DAF:re's ``tags_cat0``) and its copyright tags (category 3, ``tags_cat3``)."""

    path: str
    class_id: int
    tags: tuple[str, ...] = ()
    copyright: tuple[str, ...] = ()
