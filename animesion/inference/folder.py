"""Batched top-k classification of every file in a folder; unreadable files are reported, not fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from ..data.images import load_rgb
from ..data.transforms import build_transform
from ..errors import DataError, ImageLoadError
from ..evaluation.predict import autocast
from ..training.checkpoint import Checkpoint
from ..utils.progress import progress_bar


@dataclass
class InferenceResult:
    """``table``: one row per readable image (file, top-k names and probabilities).
    ``failures``: one row per file that could not be read (file, reason)."""

    table: pd.DataFrame
    failures: pd.DataFrame
    images: dict[str, object] = field(default_factory=dict, repr=False)

    def top_lists(self, files: list[str]) -> tuple[list[list[str]], list[list[float]]]:
        """Top-k names and probabilities of ``files`` (rows of ``table``), as lists for galleries."""
        rows = self.table.set_index("file").loc[files]
        ranks = [c for c in self.table.columns if c.startswith("top") and not c.endswith("_prob")]
        return rows[ranks].values.tolist(), rows[[f"{r}_prob" for r in ranks]].values.tolist()


def list_files(folder: str | Path) -> list[Path]:
    """Every non-hidden file under ``folder``, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"test_path '{folder}' is not a folder.")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


@torch.inference_mode()
def predict_folder(ckpt: Checkpoint, folder: str | Path, batch_size: int = 32, top_k: int = 5,
                   keep_images: int = 0, progress: bool = True) -> InferenceResult:
    """Top-``top_k`` characters for each image file in ``folder``, ``batch_size`` images per forward pass.

    ``keep_images``: how many loaded images to keep in the result for display.
    """
    files = list_files(folder)
    transform = build_transform(ckpt.config.image_size, train=False)
    draft_size = ckpt.config.image_size + 32  # big JPEGs decode at reduced scale, as in the validation loader
    device = next(ckpt.model.parameters()).device
    rows, failures, kept = [], [], {}
    k = min(top_k, len(ckpt.class_names))
    for start in progress_bar(range(0, len(files), batch_size), desc="classifying", disable=not progress):
        batch, names = [], []
        for path in files[start : start + batch_size]:
            try:
                image = load_rgb(path, draft_size=draft_size)
            except ImageLoadError as err:
                failures.append({"file": str(path), "reason": str(err).split(": ", 1)[-1]})
                continue
            if len(kept) < keep_images:
                kept[str(path)] = image
            batch.append(transform(image))
            names.append(str(path))
        if not batch:
            continue
        with autocast(device):
            logits = ckpt.model(torch.stack(batch).to(device))["logits"].float()
        probs, idx = logits.softmax(-1).topk(k, dim=-1)
        for name, p, i in zip(names, probs.tolist(), idx.tolist()):
            row = {"file": name}
            for rank in range(k):
                row[f"top{rank + 1}"] = ckpt.class_names[i[rank]]
                row[f"top{rank + 1}_prob"] = p[rank]
            rows.append(row)
    columns = ["file"] + [f"top{r}{suffix}" for r in range(1, k + 1) for suffix in ("", "_prob")]
    table = pd.DataFrame(rows, columns=columns)
    return InferenceResult(table, pd.DataFrame(failures, columns=["file", "reason"]), kept)
