"""Exporting a trained model: to an ONNX file (checking that ONNX Runtime ranks classes the same way), or, as
``python -m animesion.export CHECKPOINT_OR_RUN OUT_DIR``, to a timm / Hugging Face folder with a model card
(:mod:`animesion.share`), optionally published with ``--push_to_hub user/name``. A mistake in the parameters is
printed as one sentence and the command exits with status 2."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from .atomic import atomic_write
from .errors import AnimesionError, DataError, ImageLoadError
from .paths import resolve_path
from .prediction.files import list_files
from .prediction.onnx import onnx_program, require
from .prediction.predictor import Predictor


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


def export_onnx(model: nn.Module, path: str | Path, image_size: int) -> Path:
    """Write ``model`` as an ONNX graph with a dynamic batch size to ``path`` (atomically)."""
    program = onnx_program(model, image_size)
    return atomic_write(resolve_path(path), lambda tmp: program.save(str(tmp)))


@torch.inference_mode()
def onnx_parity(predictor: Predictor, onnx_path: str | Path, images: Tensor, top_k: int = 5) -> OnnxParity:
    """Run ``images`` [B, 3, S, S] through the predictor's model (fp32) and through ONNX Runtime; compare the top-k."""
    require("onnxruntime")
    import onnxruntime

    path = resolve_path(onnx_path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    predictor.model.eval()
    # fp32 on purpose, whatever the run's autocast: the ONNX graph is an fp32 copy of the model.
    expected = predictor.model(images.to(predictor.device))["logits"].float().cpu()
    got = torch.from_numpy(session.run(["logits"], {"images": images.cpu().float().numpy()})[0])
    k = min(top_k, expected.shape[-1])
    same = (expected.topk(k).indices.sort().values == got.topk(k).indices.sort().values).all(-1)
    return OnnxParity(path, len(images), k, same.float().mean().item(), (expected - got).abs().max().item())


def folder_batch(predictor: Predictor, folder: str | Path, limit: int = 32) -> Tensor:
    """Up to ``limit`` readable images of ``folder`` as an input batch [N, 3, S, S] (unreadable files skipped)."""
    images = []
    for path in list_files(folder):
        try:
            images.append(predictor.load(path))
        except ImageLoadError:
            continue
        if len(images) == limit:
            break
    if not images:
        raise DataError(f"'{folder}' holds no readable image to check the ONNX model with.")
    return predictor.to_batch(images).cpu()


def export_and_check(predictor: Predictor, folder: str | Path, path: str | Path, top_k: int = 5) -> OnnxParity:
    """Export the predictor's model to ``path`` and compare its top-k with PyTorch's on the images in ``folder``."""
    if predictor.spec.multimodal:
        raise AnimesionError("ONNX export covers vision-only models; this checkpoint also reads tags (multimodal).")
    onnx_path = export_onnx(predictor.model, path, predictor.spec.image_size)
    return onnx_parity(predictor, onnx_path, folder_batch(predictor, folder), top_k)


def main(argv: list[str] | None = None) -> int:
    """Write the shared folder (and publish it with ``--push_to_hub``); 0 on success, 2 on a user error."""
    import sys

    from .config.cli import parse_config
    from .config.export import ExportConfig
    from .share.folder import export_folder, push_folder

    words = list(sys.argv[1:] if argv is None else argv)
    positional = []
    while words and not words[0].startswith("-") and len(positional) < 2:  # CHECKPOINT_OR_RUN OUT_DIR first
        positional.append(words.pop(0))
    words = [w for pair in zip(("--checkpoint_path", "--out_dir"), positional) for w in pair] + words
    try:
        config = parse_config(ExportConfig, words, prog="python -m animesion.export",
                              description=__doc__.splitlines()[0])
        folder = export_folder(config.checkpoint_path, config.out_dir)
        print(f"shared folder: {folder} ({', '.join(sorted(p.name for p in folder.iterdir()))})")
        if config.push_to_hub:
            print(f"published: {push_folder(folder, config.push_to_hub, config.private)}")
    except AnimesionError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


__all__ = ["OnnxParity", "export_and_check", "export_onnx", "folder_batch", "main", "onnx_parity"]


if __name__ == "__main__":
    raise SystemExit(main())
