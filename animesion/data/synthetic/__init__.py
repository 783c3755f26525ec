"""The embedded synthetic anime-character dataset."""

from .generate import draw_sample, ensure_synthetic, generate_synthetic, read_manifest, read_spec
from .spec import SyntheticConfig

__all__ = ["SyntheticConfig", "draw_sample", "ensure_synthetic", "generate_synthetic", "read_manifest", "read_spec"]
