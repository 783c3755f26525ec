"""Command line for captions: ``python -m animesion.tag FOLDER --checkpoint_path best.safetensors``.

Writes a caption file beside every picture of FOLDER (``--recursive``: of its subfolders too) with the
checkpoint's tag head and its recogniser, taking the option names of kohya's WD14 tagger script
(:class:`~animesion.config.tag.TagConfig`). An existing caption is skipped unless ``--existing append`` or
``overwrite`` says otherwise. Unreadable pictures are listed and the rest are captioned; a mistake in the
parameters is printed as one sentence and the command exits with status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from .config.cli import parse_config
from .config.tag import TagConfig
from .errors import AnimesionError


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the parameters, caption the folder, say what was written; 0 on success, 2 on a user error."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words and not words[0].startswith("-"):  # the folder comes first, as in kohya's script
        words = ["--train_data_dir", *words]
    try:
        config = parse_config(TagConfig, words, prog="python -m animesion.tag", description=__doc__.splitlines()[0])
        from .inference.captions import caption_folder  # after parsing, so --help answers without loading torch

        run = caption_folder(config, progress=sys.stderr.isatty())
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in run.failures.itertuples():
        print(f"not captioned: {row.file}: {row.reason}")
    print(run.describe())
    if run.scores_path is not None:
        print(f"every score: {run.scores_path}")
    if config.frequency_tags:
        print("tag frequencies:")
        for tag, count in run.frequencies.most_common():
            print(f"  {tag}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
