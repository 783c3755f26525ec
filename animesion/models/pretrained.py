"""Pretrained ImageNet weights that work offline: a local file, a warm cache, or a clear message.

Nothing here downloads unless a quick probe shows the network is reachable, and
``ANIMESION_OFFLINE=1`` (set by the tests) skips even the probe.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
from torch import nn

from ..errors import CheckpointError
from ..utils.state_dict import read_state_dict


def network_available(host: str, timeout: float = 3.0) -> bool:
    """True when ``host`` answers on port 443 within ``timeout`` seconds (never hangs longer)."""
    if os.environ.get("ANIMESION_OFFLINE") == "1":
        return False
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _missing(what: str, filename: str, where: Path) -> CheckpointError:
    return CheckpointError(
        f"Pretrained weights for {what} are not available offline: download '{filename}' and either set "
        f"pretrained_path to it or put it in '{where}'."
    )


def load_pretrained_cnn(net: nn.Module, arch: str, weights_name: str, local_path: str = "") -> None:
    """Load torchvision ImageNet weights into ``net`` from ``local_path``, the torch hub cache, or the web."""
    import torchvision

    weights = torchvision.models.get_model_weights(arch)[weights_name]
    filename = Path(weights.url).name
    cache_dir = Path(torch.hub.get_dir()) / "checkpoints"
    path = Path(local_path) if local_path else cache_dir / filename
    if path.is_file():
        state = read_state_dict(path)
    elif not local_path and network_available("download.pytorch.org"):
        state = weights.get_state_dict(progress=True)
    else:
        raise _missing(arch, filename, cache_dir)
    net.load_state_dict(state)


def load_pretrained_vit(timm_name: str, local_path: str = "", **kwargs) -> nn.Module:  # noqa: ANN003
    """Create a timm ViT with ImageNet-21k weights from ``local_path``, the Hugging Face cache, or the hub.

    timm resamples the position embeddings when ``img_size`` differs from the pretrained 224.
    """
    import timm
    from huggingface_hub import try_to_load_from_cache

    repo = f"timm/{timm_name}"
    cached = try_to_load_from_cache(repo, "model.safetensors")
    path = local_path or (cached if isinstance(cached, str) else "")
    if path:
        if not Path(path).is_file():
            raise CheckpointError(f"pretrained_path '{path}' does not exist.")
        return timm.create_model(timm_name, pretrained=True, pretrained_cfg_overlay={"file": str(path)}, **kwargs)
    if network_available("huggingface.co"):
        return timm.create_model(timm_name, pretrained=True, **kwargs)
    from huggingface_hub.constants import HF_HUB_CACHE

    raise _missing(timm_name, f"model.safetensors of the Hugging Face repo '{repo}'", Path(HF_HUB_CACHE))
