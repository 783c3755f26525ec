"""Command line for training: ``python -m animesion.train -f parameters/x.yaml --key value``.

The same parameters as the ``03_train`` notebook (the :class:`TrainConfig` fields). Several GPUs:
``accelerate launch --multi_gpu --num_processes N -m animesion.train -f parameters/x.yaml`` (on a machine
without CUDA the same command starts N CPU processes that talk over gloo), or ``--num_processes N`` here,
which uses Accelerate's notebook launcher. A mistake in the parameters is printed as one sentence and the
command exits with status 2.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from .config.cli import parse_config
from .config.train import TrainConfig
from .errors import AnimesionError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the parameters, train, print where the run went; 0 on success, 2 on a user error."""
    try:
        config = parse_config(TrainConfig, sys.argv[1:] if argv is None else argv, prog="python -m animesion.train",
                              description=__doc__.splitlines()[0])
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from .training import launch  # after parsing, so --help and typos answer without loading torch

        result = launch(config, progress=sys.stderr.isatty())
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if os.environ.get("RANK", "0") == "0":  # launched processes all return; one report is enough
        print(f"run folder: {result.run_dir}")
        print(f"test top-1 {result.metrics['test_top1']:.2f}%  top-5 {result.metrics['test_top5']:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
