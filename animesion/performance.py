"""Speed settings that never change results: worker counts, memory layout, fused attention, compile, AMP.

Each helper is a plain function so the trainer, the evaluators and ``python -m benchmarks.run`` share one
choice of settings. None of them trades accuracy for speed unless asked to: ``channels_last``
and fused attention compute the same function in a faster order, ``torch.compile`` is opt-in, and
mixed precision is only suggested on CUDA, where it is the norm.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import torch
from torch import nn

from .errors import ConfigError

MAX_WORKERS = 8  # more decoding processes than this rarely helps and each one costs memory
AUTO_WORKERS = -1  # ``no_cpu_workers=-1``: let :func:`auto_workers` choose for the cores at hand


def available_cpus() -> int:
    """CPU cores this process may run on (respects container and ``taskset`` limits)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity masks
        return os.cpu_count() or 1


def auto_workers(cpu_count: int | None = None, device_type: str = "cpu") -> int:
    """A sensible number of DataLoader worker processes for ``cpu_count`` cores.

    On CUDA the main process only feeds the GPU, so every core but one decodes images. On CPU the
    model's own threads need the cores, so a quarter of them (at least one) decode in the background;
    on two cores that is one worker, which keeps the second core busy while the model's single-threaded
    parts run. One core gets no workers: a second process would only add switching.
    """
    cpus = available_cpus() if cpu_count is None else cpu_count
    if cpus <= 1:
        return 0
    if device_type == "cuda":
        return min(cpus - 1, MAX_WORKERS)
    return max(1, min(cpus // 4, MAX_WORKERS))


def resolve_workers(requested: int, device_type: str = "cpu", processes: int = 1) -> int:
    """``requested`` DataLoader workers, or for ``-1`` the :func:`auto_workers` choice for this machine.

    ``processes``: how many training processes share the machine's cores (each gets its share).
    Workers only move decoding off the main process; batches and results stay the same.
    """
    if requested != AUTO_WORKERS:
        return requested
    return auto_workers(max(1, available_cpus() // processes), device_type)


def is_convolutional(model: nn.Module) -> bool:
    """True for CNNs: more than one 2-D convolution (a ViT has exactly one, its patch embedding)."""
    return sum(isinstance(m, nn.Conv2d) for m in model.modules()) > 1


def compile_available(device_type: str = "cpu") -> tuple[bool, str]:
    """Whether ``torch.compile`` can build kernels here, and if not, why (one sentence)."""
    if not hasattr(torch, "compile"):
        return False, f"torch {torch.__version__} has no torch.compile; upgrade to torch 2.0 or later."
    if device_type == "cuda":
        try:
            import triton  # noqa: F401 - only probing for the package
        except ImportError:
            return False, "torch.compile on CUDA needs the 'triton' package; install it or set compile=False."
        return True, ""
    if not any(shutil.which(cxx) for cxx in ("g++", "c++", "clang++")):
        return False, "torch.compile on CPU needs a C++ compiler (g++ or clang++); install one or set compile=False."
    return True, ""


def prepare_model(model: nn.Module, *, channels_last: bool | None = None, compile: bool = False) -> nn.Module:
    """Put ``model`` in its fastest memory layout and optionally compile it; the results stay the same.

    ``channels_last``: None converts convolutional models only (see :func:`is_convolutional`); the
    conversion happens in place (as ``nn.Module.to`` does) and convolutions then return channels-last
    activations even for ordinary [B, 3, H, W] inputs. ``compile``: wrap in ``torch.compile``; the
    first batches are slow while kernels are built. Checkpoints unwrap the compiled model themselves.
    """
    if channels_last is None:
        channels_last = is_convolutional(model)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    if compile:
        device_type = next(model.parameters()).device.type
        ok, reason = compile_available(device_type)
        if not ok:
            raise ConfigError(reason)
        model = torch.compile(model)
    return model


def uses_fused_attention(model: nn.Module) -> bool | None:
    """True when every timm attention layer calls ``F.scaled_dot_product_attention``; None without any.

    timm switches fused attention on by default (``timm.layers.use_fused_attn``); the environment
    variable ``TIMM_FUSED_ATTN=0`` or an attention-map extractor can switch it off.
    """
    flags = [m.fused_attn for m in model.modules() if hasattr(m, "fused_attn")]
    return all(flags) if flags else None


def pick_device() -> torch.device:
    """CUDA when available, else the CPU (evaluation and inference; training asks Accelerate)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class AmpSettings:
    """Mixed precision for a device: whether to autocast, to which dtype, and whether to scale the loss."""

    enabled: bool
    dtype: torch.dtype
    grad_scaler: bool


def amp_settings(device: torch.device | str) -> AmpSettings:
    """What a device does best: bf16 autocast on CUDA GPUs that support it, fp16 with a gradient scaler on
    older ones, none on CPU (on CPUs without bf16 instructions, most laptops, autocast is slower than fp32)."""
    device = torch.device(device)
    if device.type != "cuda":
        return AmpSettings(enabled=False, dtype=torch.float32, grad_scaler=False)
    if torch.cuda.is_bf16_supported():
        return AmpSettings(enabled=True, dtype=torch.bfloat16, grad_scaler=False)
    return AmpSettings(enabled=True, dtype=torch.float16, grad_scaler=True)


def suggested_mixed_precision(device: torch.device | str) -> str:
    """The ``mixed_precision`` value of :func:`amp_settings`: ``bf16`` or ``fp16`` on CUDA, ``no`` elsewhere."""
    amp = amp_settings(device)
    return ("bf16" if amp.dtype == torch.bfloat16 else "fp16") if amp.enabled else "no"


def autocast(device: torch.device | str, mixed_precision: str = "no") -> torch.autocast:
    """The autocast of a run's ``mixed_precision`` on ``device``, so a model predicts as it was trained.

    ``no``: fp32. ``bf16``: bf16 autocast (CPU or CUDA, as Accelerate trains it). ``fp16``: fp16 autocast on
    CUDA; elsewhere fp32, since only CUDA trains in fp16.
    """
    device_type = torch.device(device).type
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(mixed_precision)
    enabled = dtype is not None and (mixed_precision != "fp16" or device_type == "cuda")
    return torch.autocast(device_type=device_type, dtype=dtype or torch.float32, enabled=enabled)
