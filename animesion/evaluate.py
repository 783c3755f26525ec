"""Command line for evaluation: ``python -m animesion.evaluate --checkpoint_path run/best.safetensors --vis_arch``.

The same parameters as the ``04_evaluate`` notebook (the :class:`EvaluateConfig` fields, the original
``evaluate.py`` flags) and the same package calls: the checkpoint's top-1/top-5 on a split, with
``save_results`` the CSVs and figures in ``<run>/evaluation_<split>/`` (the gallery of mistakes with
``eval_imagebyimage``), with ``vis_arch`` the model summary. A mistake in the parameters is printed as
one sentence and the command exits with status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .config.cli import parse_config
from .config.evaluate import EvaluateConfig
from .errors import AnimesionError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the parameters, evaluate, print the summary and where the results went; 0 on success, 2 on a
    user error."""
    try:
        config = parse_config(EvaluateConfig, sys.argv[1:] if argv is None else argv,
                              prog="python -m animesion.evaluate", description=__doc__.splitlines()[0])
        # after parsing, so --help and typos answer without loading torch
        from .evaluation.report import evaluate_checkpoint, model_summary, save_report

        report = evaluate_checkpoint(config, progress=sys.stderr.isatty())
        out_dir = None
        if config.save_results:
            out_dir = save_report(report, max_gallery=config.max_gallery if config.eval_imagebyimage else 0)
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if config.vis_arch:
        print(model_summary(report.checkpoint.model).to_string(index=False))
    s = report.summary
    print(f"checkpoint: {report.checkpoint.path}")
    print(f"{report.split} split, {s['samples']} samples: top-1 {s['top1']:.2f}%  top-5 {s['top5']:.2f}%")
    if out_dir is not None:
        print(f"CSVs and figures: {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
