"""``load_partial_mode``: which parts of a ViT checkpoint to load, as key prefixes of :class:`ViTClassifier`.

The "tokenizer" of a ViT is what turns an image into tokens: the patch projection, the class token and
the position embeddings. Loading only these from a trained model speeds up training a new one.
"""

from __future__ import annotations

from ..registry import Registry

# part → prefixes of its weights in ViTClassifier's state dict
PARTS: dict[str, tuple[str, ...]] = {
    "patchprojection": ("vit.patch_embed.",),
    "posembeddings": ("vit.pos_embed",),
    "clstoken": ("vit.cls_token",),
}

PARTIAL_MODES: Registry[tuple[str, ...]] = Registry("load_partial_mode")
for _mode, _parts in {
    "full_tokenizer": ("patchprojection", "posembeddings", "clstoken"),
    "patchprojection": ("patchprojection",),
    "posembeddings": ("posembeddings",),
    "clstoken": ("clstoken",),
    "patchandposembeddings": ("patchprojection", "posembeddings"),
    "patchandclstoken": ("patchprojection", "clstoken"),
    "posembeddingsandclstoken": ("posembeddings", "clstoken"),
}.items():
    PARTIAL_MODES.register(_mode)(tuple(prefix for part in _parts for prefix in PARTS[part]))


def partial_keys(keys: list[str], mode: str) -> list[str]:
    """The keys among ``keys`` that ``load_partial_mode=mode`` loads."""
    prefixes = PARTIAL_MODES.get(mode)
    return [key for key in keys if key.startswith(prefixes)]


__all__ = ["PARTIAL_MODES", "PARTS", "partial_keys"]
