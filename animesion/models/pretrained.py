"""Pretrained ImageNet weights that work offline: a local file, a warm cache, or one clear sentence.

Every weights file is found the same way: ``pretrained_path`` if given, else the library's cache
(torch hub for torchvision, Hugging Face for timm), else a download, but only when a quick probe shows
the network is reachable. ``ANIMESION_OFFLINE=1`` (set by the tests) skips even the probe, so an
offline run stops at once with the name of the file it needs instead of hanging on a download.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError
from ..paths import resolve_path
from ..utils.state_dict import read_state_dict
from .original import convert_original, is_original_state_dict

log = logging.getLogger(__name__)


def network_available(host: str, timeout: float = 3.0) -> bool:
    """True when ``host`` answers on port 443 within ``timeout`` seconds (never hangs longer)."""
    if os.environ.get("ANIMESION_OFFLINE") == "1":
        return False
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


@dataclass(frozen=True)
class WeightsSource:
    """Where the pretrained weights of one architecture come from.

    ``url``: what a person downloads by hand. ``cached``: the file a warm cache already holds, or None.
    ``cache_hint``: where the cache lives, for the error message. ``download``: fetch into the cache.
    """

    what: str
    url: str
    host: str
    cached: Path | None
    cache_hint: str
    download: Callable[[], Path]


def locate_weights(source: WeightsSource, local_path: str = "") -> Path:
    """The weights file of ``source``: ``local_path``, the cache, or a download when the network is up."""
    if local_path:
        path = resolve_path(local_path)
        if not path.is_file():
            raise CheckpointError(f"pretrained_path '{path}' does not exist; download {source.url} to it.")
        return path
    if source.cached is not None and source.cached.is_file():
        return source.cached
    if network_available(source.host):
        return source.download()
    raise CheckpointError(
        f"Pretrained weights for {source.what} are not available offline: download {source.url} and set "
        f"pretrained_path to the file ({source.cache_hint})."
    )


def torchvision_source(arch: str, weights_name: str) -> WeightsSource:
    """torchvision's ImageNet weights ``weights_name`` of ``arch``, cached in the torch hub folder."""
    import torchvision

    url = torchvision.models.get_model_weights(arch)[weights_name].url
    cache_dir = Path(torch.hub.get_dir()) / "checkpoints"

    def download() -> Path:
        torch.hub.load_state_dict_from_url(url, model_dir=str(cache_dir), check_hash=True, weights_only=True)
        return cache_dir / Path(url).name

    return WeightsSource(arch, url, "download.pytorch.org", cache_dir / Path(url).name,
                         f"or copy it into '{cache_dir}'", download)


def timm_hub_source(timm_name: str) -> WeightsSource:
    """The ``model.safetensors`` of the Hugging Face repo ``timm/<timm_name>``, from the HF cache."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.constants import HF_HUB_CACHE

    repo = f"timm/{timm_name}"
    cached = try_to_load_from_cache(repo, "model.safetensors")

    def download() -> Path:
        return Path(hf_hub_download(repo, "model.safetensors"))

    return WeightsSource(timm_name, f"https://huggingface.co/{repo}/resolve/main/model.safetensors",
                         "huggingface.co", Path(cached) if isinstance(cached, str) else None,
                         f"or run once online to cache it in '{HF_HUB_CACHE}'", download)


def load_pretrained_cnn(net: nn.Module, arch: str, weights_name: str, local_path: str = "") -> None:
    """Load torchvision ImageNet weights into ``net`` (in place) from ``local_path``, the cache or the web."""
    path = locate_weights(torchvision_source(arch, weights_name), local_path)
    try:
        net.load_state_dict(read_state_dict(path))
    except RuntimeError as err:
        raise CheckpointError(f"'{path}' does not hold {arch} weights: {str(err).splitlines()[0]}") from None


def vit_weights_file(timm_name: str, local_path: str = "") -> Path:
    """The ImageNet-21k weights file of ``timm_name``: ``local_path``, the HF cache, or a download.

    Called before the trunk is built, so a missing file stops the run before a ViT-L is allocated.
    """
    return locate_weights(timm_hub_source(timm_name), local_path)


def load_vit_weights(trunk: nn.Module, path: Path, what: str) -> None:
    """Load pretrained weights from ``path`` into the timm ``trunk`` (in place).

    The file is timm's (``model.safetensors``) or an original Animesion/PyTorch-Pretrained-ViT file
    (``B_16.pth``). timm's ``checkpoint_filter_fn`` resamples the position embeddings from the
    pretrained 14×14 (or 7×7) grid to the trunk's grid when ``image_size`` is not 224. The ImageNet
    classifier is dropped: the trunk has none.
    """
    from timm.models.vision_transformer import checkpoint_filter_fn

    state = read_state_dict(path)
    if is_original_state_dict(state):
        state = {k.removeprefix("vit."): v for k, v in convert_original(state).state.items() if k.startswith("vit.")}
    state = {k: v for k, v in checkpoint_filter_fn(state, trunk).items() if not k.startswith("head.")}
    try:
        result = trunk.load_state_dict(state, strict=False)
    except RuntimeError as err:
        detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err))
        raise CheckpointError(f"'{path}' does not fit {what}: {detail}") from None
    if result.missing_keys:
        raise CheckpointError(
            f"'{path}' lacks {len(result.missing_keys)} weights of {what} (e.g. {result.missing_keys[0]}); "
            "is it the right file?"
        )
    if result.unexpected_keys:
        log.warning("%d weights of '%s' have no place in %s and were ignored: %s", len(result.unexpected_keys),
                    path, what, ", ".join(result.unexpected_keys[:10]))
    log.info("loaded pretrained %s from %s", what, path)


__all__ = [
    "WeightsSource", "load_pretrained_cnn", "load_vit_weights", "locate_weights", "network_available",
    "vit_weights_file",
]
