"""Exporting a trained model to ONNX, and checking that ONNX Runtime ranks classes the same way.

The export goes through ``torch.onnx.export`` (the torch.export-based exporter, which needs the
``onnxscript`` package) with a dynamic batch dimension; the graph maps ``images`` [B, 3, S, S],
normalised as in evaluation, to ``logits`` [B, classes].
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from .data.images import load_rgb
from .data.transforms import build_transform
from .errors import AnimesionError, DataError, ImageLoadError
from .inference.folder import list_files
from .paths import resolve_path
from .training.atomic import atomic_write
from .training.checkpoint import Checkpoint


class LogitsOnly(nn.Module):
    """``model(images)["logits"]``: ONNX graphs return tensors, not the :class:`ModelOutput` dict."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: Tensor) -> Tensor:
        """images [B, 3, S, S] → logits [B, classes]."""
        return self.model(images)["logits"]


@dataclass
class OnnxParity:
    """How ONNX Runtime's logits compare with PyTorch's on the same images.

    ``same_top_k``: share of images whose top-k classes (as a set) agree. ``max_abs_diff``: largest
    logit difference.
    """

    path: Path
    images: int
    top_k: int
    same_top_k: float
    max_abs_diff: float

    @property
    def ok(self) -> bool:
        """True when every image has the same top-k in both runtimes."""
        return self.same_top_k == 1.0

    def __str__(self) -> str:
        verdict = "the same" if self.ok else "DIFFERENT"
        return (f"ONNX model {self.path}: ONNX Runtime gives {verdict} top-{self.top_k} on "
                f"{self.same_top_k:.0%} of {self.images} images (largest logit difference {self.max_abs_diff:.2e}).")


def _require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise AnimesionError(f"ONNX export needs {', '.join(missing)}; install it with "
                             f"`pip install {' '.join(missing)}`.")


def export_onnx(model: nn.Module, path: str | Path, image_size: int) -> Path:
    """Write ``model`` as an ONNX graph with a dynamic batch size to ``path`` (atomically)."""
    _require("onnx", "onnxscript")
    device = next(model.parameters()).device
    example = torch.randn(2, 3, image_size, image_size, device=device)
    training = model.training
    model.eval()
    try:
        program = torch.onnx.export(
            LogitsOnly(model).eval(), (example,), dynamo=True, input_names=["images"], output_names=["logits"],
            dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1, max=4096)}}, verbose=False,
        )
    finally:
        model.train(training)
    return atomic_write(resolve_path(path), lambda tmp: program.save(str(tmp)))


@torch.inference_mode()
def onnx_parity(model: nn.Module, onnx_path: str | Path, images: Tensor, top_k: int = 5) -> OnnxParity:
    """Run ``images`` [B, 3, S, S] through ``model`` and through ONNX Runtime, and compare the top-k."""
    _require("onnxruntime")
    import onnxruntime

    path = resolve_path(onnx_path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    training = model.training
    model.eval()
    try:
        expected = model(images.to(next(model.parameters()).device))["logits"].float().cpu()
    finally:
        model.train(training)
    got = torch.from_numpy(session.run(["logits"], {"images": images.cpu().float().numpy()})[0])
    k = min(top_k, expected.shape[-1])
    same = (expected.topk(k).indices.sort().values == got.topk(k).indices.sort().values).all(-1)
    return OnnxParity(path, len(images), k, same.float().mean().item(), (expected - got).abs().max().item())


def folder_batch(folder: str | Path, image_size: int, limit: int = 32) -> Tensor:
    """Up to ``limit`` readable images of ``folder`` as an evaluation batch [N, 3, S, S] (unreadable files skipped)."""
    transform = build_transform(image_size, train=False)
    images = []
    for path in list_files(folder):
        try:
            images.append(transform(load_rgb(path)))
        except ImageLoadError:
            continue
        if len(images) == limit:
            break
    if not images:
        raise DataError(f"'{folder}' holds no readable image to check the ONNX model with.")
    return torch.stack(images)


def export_and_check(ckpt: Checkpoint, folder: str | Path, path: str | Path, top_k: int = 5) -> OnnxParity:
    """Export ``ckpt``'s model to ``path`` and compare its top-k with PyTorch's on the images in ``folder``."""
    if ckpt.config.multimodal:
        raise AnimesionError("ONNX export covers vision-only models; this checkpoint also reads tags (multimodal).")
    onnx_path = export_onnx(ckpt.model, path, ckpt.config.image_size)
    return onnx_parity(ckpt.model, onnx_path, folder_batch(folder, ckpt.config.image_size), top_k)


__all__ = ["LogitsOnly", "OnnxParity", "export_and_check", "export_onnx", "folder_batch", "onnx_parity"]
