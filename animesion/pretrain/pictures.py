"""The unlabelled pictures a pretext reads: each through the pretext's transform, with its index."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from ..data.images import ImageLoadError, load_rgb

log = logging.getLogger("animesion")


class Pictures(Dataset):
    """Picture ``i`` → ``{"image": transform(picture), "index": i}`` (``image`` [3, S, S] for one view, [2, 3, S, S]
    for SimCLR's two); None (and a warning naming the file) when it cannot be read."""

    def __init__(self, files: list[Path], transform: Callable[[Image.Image], Tensor]) -> None:
        self.files, self.transform = files, transform

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Tensor | int] | None:
        try:
            image = load_rgb(self.files[index])
        except ImageLoadError as err:
            log.warning("skipped: %s", err)
            return None
        return {"image": self.transform(image), "index": index}


__all__ = ["Pictures"]
