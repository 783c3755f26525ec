"""A backbone a CNN can start from instead of random weights: a file written by ``python -m animesion.pretrain``
(self-supervised, from pictures without labels).

A network trained from random weights on a dataset's few characters learns what tells those characters
apart and little that carries to others (``benchmarks/new_characters.md``). A backbone pretrained by SimCLR
on many unlabelled faces (:mod:`animesion.pretrain`) starts it from features of faces in general. Whether
it carries identity to new characters is measured by ``benchmarks/open_set.py --only folds -p backbone FILE``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CheckpointError
from ..paths import resolve_path

if TYPE_CHECKING:  # torch comes only with a model
    from torch import nn

log = logging.getLogger("animesion")


def backbone_file(backbone: str) -> Path:
    """The weights file ``backbone`` names; CheckpointError naming it when it is missing."""
    path = resolve_path(backbone)
    if not path.is_file():
        raise CheckpointError(f"backbone '{backbone}': no weights file at '{path}'; give a file written by "
                              "python -m animesion.pretrain, or backbone='' for random weights.")
    return path


def load_backbone(net: nn.Module, backbone: str, head: str) -> None:
    """Load the backbone's weights into the torchvision ``net`` (in place); only its classifier ``head`` may be
    missing from the file (03 makes it anew for its classes)."""
    from ..utils.state_dict import read_state_dict

    path = backbone_file(backbone)
    state = {k: v.float() if v.is_floating_point() else v for k, v in read_state_dict(path).items()}
    try:
        result = net.load_state_dict(state, strict=False)
    except RuntimeError as err:
        raise CheckpointError(f"'{path}' does not fit this model: {str(err).splitlines()[1].strip()}") from None
    missing = [k for k in result.missing_keys if not k.startswith(f"{head}.")]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"'{path}' does not fit this model: {len(missing)} of its weights are missing (e.g. "
                              f"{(missing or ['-'])[0]}), {len(result.unexpected_keys)} are not its own.")
    log.info("backbone: %s from %s", backbone, path)


__all__ = ["backbone_file", "load_backbone"]
