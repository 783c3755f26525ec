"""Allowed values that live in registries; looked up lazily so importing a config stays cheap."""

from __future__ import annotations

LOAD_PARTIAL_MODES = (
    "full_tokenizer",
    "patchprojection",
    "posembeddings",
    "clstoken",
    "patchandposembeddings",
    "patchandclstoken",
    "posembeddingsandclstoken",
)


def model_names() -> list[str]:
    """Names in the model registry."""
    from ..models.registry import MODELS

    return MODELS.names()


def dataset_names() -> list[str]:
    """Names in the dataset-layout registry."""
    from ..data.layouts import LAYOUTS

    return LAYOUTS.names()


def load_partial_modes() -> tuple[str, ...]:
    """Parts of a ViT checkpoint that ``load_partial_mode`` can load alone."""
    return LOAD_PARTIAL_MODES
