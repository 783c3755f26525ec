"""Command line: ``python -m animesion.pretrain --images_path FOLDER [--method clusters] [--backbone START]``.

The :class:`~animesion.config.pretrain.PretrainConfig` fields; a mistake is one sentence and status 2.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from ..config.cli import parse_config
from ..config.pretrain import PretrainConfig
from ..errors import AnimesionError


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = parse_config(PretrainConfig, sys.argv[1:] if argv is None else argv,
                              prog="python -m animesion.pretrain", description=__doc__.splitlines()[0])
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from .loop import pretrain

        result = pretrain(config, progress=sys.stderr.isatty())
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"backbone: {result.path} ({result.images} pictures, {result.seconds / 60:.0f} min, "
          f"loss {result.losses[0]:.3f} → {result.losses[-1]:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
