"""The embedded synthetic anime-character dataset."""

from .generate import draw_sample, ensure_synthetic, generate_synthetic, read_manifest

__all__ = ["draw_sample", "ensure_synthetic", "generate_synthetic", "read_manifest"]
