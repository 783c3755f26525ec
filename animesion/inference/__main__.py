"""Command line for inference: ``python -m animesion.inference --test_path folder/ --checkpoint_path best.safetensors``.

The same parameters as the ``05_inference`` notebook (the :class:`InferenceConfig` fields, the original
``inference.py`` flags) and the same call, :func:`run_inference`: one line per picture with its top-k
characters (and predicted tags when ``mode`` predicts them), then the files that could not be read, then
where the results went. A mistake in the parameters is printed as one sentence and the command exits
with status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..config.cli import parse_config
from ..config.inference import InferenceConfig
from ..errors import AnimesionError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the parameters, classify, print each picture's predictions; 0 on success, 2 on a user error."""
    try:
        config = parse_config(InferenceConfig, sys.argv[1:] if argv is None else argv,
                              prog="python -m animesion.inference", description=__doc__.splitlines()[0])
        # after parsing, so --help and typos answer without loading torch
        from ..paths import shown_path
        from ..prediction.files import NOTES, TAGS
        from .run import run_inference

        run = run_inference(config, progress=sys.stderr.isatty())
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result = run.result
    files = result.table["file"].tolist()
    names, probs = result.top_lists(files)
    tags = result.table[TAGS].tolist() if TAGS in result.table else [None] * len(files)
    for note in run.notes:
        print(f"note: {note}")
    for file, answer, top_names, top_probs, tag_set, note in zip(files, result.answer_texts(files), names, probs,
                                                                  tags, result.table[NOTES]):
        # the answer and its confidence, then the candidates, the tags and what to know about the file
        line = f"{shown_path(file, run.folder)}: {answer} | " + ", ".join(f"{name} {p * 100:.1f}%"
                                                                       for name, p in zip(top_names, top_probs))
        line += "" if tag_set is None else f" | tags: {', '.join(tag_set) or '(none)'}"
        print(line + (f" | note: {note}" if note else ""))
    for failure in result.failures.itertuples():
        print(f"unreadable: {shown_path(failure.file, run.folder)}: {failure.reason}")
    print(f"{len(files)} pictures classified in {run.folder} with {run.checkpoint.path}")
    if run.out_dir is not None:
        print(f"results: {run.out_dir}")
    if run.tags_csv is not None:
        print(f"tags: {run.tags_csv}")
    if run.parity is not None:
        print(run.parity)
    return 0


if __name__ == "__main__":
    sys.exit(main())
