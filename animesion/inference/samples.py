"""A folder of sample images to try inference on, drawn from the synthetic cast (no downloads)."""

from __future__ import annotations

import random
from pathlib import Path

from ..data.synthetic import SyntheticConfig, draw_sample, read_spec
from ..data.synthetic.characters import make_cast
from ..errors import DataError
from ..paths import resolve_path


def make_sample_images(folder: str | Path, spec: SyntheticConfig | None = None, count: int = 12,
                       seed: int = 1234) -> Path:
    """Draw ``count`` pictures of the synthetic characters of ``spec`` into ``folder``.

    Each file is named after its character, so the right answer is visible. Two files that are not
    readable images are added on purpose, to show that inference reports them and goes on.
    """
    spec = spec or SyntheticConfig()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cast = make_cast(spec.no_classes, spec.seed)
    rng = random.Random(seed)
    for i in range(count):
        character = cast[rng.randrange(len(cast))]
        image, _ = draw_sample(character, rng, spec.picture_size * 2)
        image.save(folder / f"{i:02d}_{character.name}.png")
    (folder / "README.txt").write_text("Sample images drawn by animesion.inference.make_sample_images.\n")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    return folder


def prepare_test_path(test_path: str, default: str, dataset_path: str) -> Path:
    """The folder to classify; the default folder is drawn from the synthetic cast when it is missing.

    ``dataset_path``: the checkpoint's dataset, whose synthetic parameters (when it has them) choose the cast.
    """
    folder = resolve_path(test_path)
    if folder.is_dir():
        return folder
    if test_path != default:
        raise DataError(f"test_path '{folder}' does not exist; point it at a folder of images.")
    return make_sample_images(folder, read_spec(resolve_path(dataset_path)))
