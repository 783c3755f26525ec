"""Batched top-k classification (and tagging) of image files; unreadable files are reported, not fatal."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from ..data.images import load_rgb
from ..errors import DataError, ImageLoadError
from ..performance import resolve_workers
from ..utils.progress import progress_bar
from .open_set import UNKNOWN, OpenSet, Prototypes, Recognition
from .predictor import Predictor

MIN_BATCHES_FOR_WORKERS = 4  # fewer batches are read in this process (measured: a worker then slows it)
TAGS = "tags"  # column of the predicted tag set (a list per image)
BEST_MATCH, SCORE = "best_match", "score"  # open-set columns: the closest character and its cosine similarity


@dataclass
class InferenceResult:
    """``table``: one row per readable image (file, top-k names and probabilities, and ``tags`` when tagging;
    after :func:`recognise_open_set` also ``best_match`` and ``score``, with ``top1`` = ``unknown`` when the
    score is below the threshold). ``failures``: one row per file that could not be read (file, reason).
    ``images``: the first few pictures, decoded for display. ``embeddings``: [N, D] L2-normalised, one row
    per row of ``table``. ``tags_csv``: the file ``gen_tags`` wrote, else None."""

    table: pd.DataFrame
    failures: pd.DataFrame
    images: dict[str, object] = field(default_factory=dict, repr=False)
    embeddings: Tensor | None = field(default=None, repr=False)
    tags_csv: Path | None = None

    def top_lists(self, files: list[str]) -> tuple[list[list[str]], list[list[float]]]:
        """Top-k names and probabilities of ``files`` (rows of ``table``), as lists for galleries."""
        rows = self.table.set_index("file").loc[files]
        ranks = [c for c in self.table.columns if c.startswith("top") and c[3:].isdigit()]
        return rows[ranks].values.tolist(), rows[[f"{r}_prob" for r in ranks]].values.tolist()

    def captions(self, files: list[str], width: int = 44) -> list[str]:
        """Gallery captions of ``files``: the file name, the best match of an unknown picture, and the
        predicted tags (wrapped) when tagging."""
        rows = self.table.set_index("file").loc[files]
        captions = [Path(f).name for f in files]
        if SCORE in rows:
            captions = [c + (f"\nbest match {m}, score {s:.2f}" if top == UNKNOWN else f"\nscore {s:.2f}")
                        for c, top, m, s in zip(captions, rows["top1"], rows[BEST_MATCH], rows[SCORE])]
        if TAGS in rows:
            captions = [c + "\n" + textwrap.fill(", ".join(t) or "(no tags)", width)
                        for c, t in zip(captions, rows[TAGS])]
        return captions


def list_files(folder: str | Path) -> list[Path]:
    """Every non-hidden file under ``folder``, sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"test_path '{folder}' is not a folder.")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


class FolderImages(Dataset):
    """The files of a folder as model inputs: ``{"file", "image"}``, or ``{"file", "reason"}`` when unreadable."""

    def __init__(self, files: list[Path], transform: Callable, draft_size: int) -> None:
        self.files = files
        self.transform = transform
        self.draft_size = draft_size  # big JPEGs decode at reduced scale, as in the validation loader

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.files[index]
        try:
            return {"file": str(path), "image": self.transform(load_rgb(path, draft_size=self.draft_size))}
        except ImageLoadError as err:
            return {"file": str(path), "reason": str(err).split(": ", 1)[-1]}


def collate_files(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch: the readable files and their images stacked [B, 3, S, S] (None if none), and the failures."""
    good = [item for item in items if "image" in item]
    return {"files": [item["file"] for item in good],
            "images": torch.stack([item["image"] for item in good]) if good else None,
            "failures": [{"file": item["file"], "reason": item["reason"]} for item in items if "reason" in item]}


def predict_files(predictor: Predictor, files: Sequence[Path], batch_size: int = 32, top_k: int = 5,
                  keep_images: int = 0, progress: bool = True, tags: bool = False,
                  workers: int = -1) -> InferenceResult:
    """Top-``top_k`` characters (and their embeddings) for each of ``files``, ``batch_size`` images per pass.

    ``tags``: also the predicted tag set of each image (vision+tags checkpoints with a mask schedule).
    ``keep_images``: how many loaded images to keep in the result for display. ``workers``: processes
    that decode the next batches while the model classifies this one (-1 picks for the cores; fewer than
    ``MIN_BATCHES_FOR_WORKERS`` batches are read in this process).
    """
    dataset = FolderImages(list(files), predictor.transform, predictor.decode_size)
    # A worker costs a process start and only pays off once it can decode ahead over several batches.
    batches = math.ceil(len(files) / batch_size)
    workers = resolve_workers(workers, predictor.device.type) if batches >= MIN_BATCHES_FOR_WORKERS else 0
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=max(workers, 0), collate_fn=collate_files,
                        pin_memory=predictor.device.type == "cuda")
    rows, failures, embeddings = [], [], []
    k = min(top_k, len(predictor.class_names))
    for batch in progress_bar(loader, desc="classifying", disable=not progress):
        failures += batch["failures"]
        if batch["images"] is None:
            continue
        result = predictor.predict(batch["images"], k, tags=tags)
        embeddings.append(result.embeddings)
        for n, (name, names, probs) in enumerate(zip(batch["files"], result.names, result.topk_prob.tolist())):
            row = {"file": name}
            for rank in range(k):
                row[f"top{rank + 1}"] = names[rank]
                row[f"top{rank + 1}_prob"] = probs[rank]
            if result.tags is not None:
                row[TAGS] = result.tags[n]
            rows.append(row)
    columns = ["file"] + [f"top{r}{suffix}" for r in range(1, k + 1) for suffix in ("", "_prob")]
    table = pd.DataFrame(rows, columns=columns + [TAGS] if tags else columns)
    # Decoded again here, not sent back from the workers: only a few files are shown.
    kept = {name: predictor.load(name) for name in table["file"][:keep_images]}
    return InferenceResult(table, pd.DataFrame(failures, columns=["file", "reason"]), kept,
                           torch.cat(embeddings) if embeddings else torch.empty(0, 0))


def recognise_open_set(result: InferenceResult, open_set: OpenSet, gallery: Prototypes | None = None,
                       threshold: float | None = None) -> Recognition:
    """Rank ``result``'s pictures among the checkpoint's classes and the enrolled ``gallery`` by their
    embeddings, and rewrite its top-k columns: ``top1`` becomes ``unknown`` below the ``threshold`` (None:
    the calibrated one; 0: never), ``best_match`` and ``score`` say what came closest."""
    k = len([c for c in result.table.columns if c.startswith("top") and c[3:].isdigit()])
    recognition = open_set.recognise(result.embeddings, gallery, k, threshold)
    table = result.table
    for rank in range(len(recognition.names[0]) if recognition.names else 0):
        table[f"top{rank + 1}"] = [names[rank] for names in recognition.names]
        table[f"top{rank + 1}_prob"] = recognition.probabilities[:, rank].tolist()
    table.insert(len(table.columns) - (TAGS in table), BEST_MATCH, table["top1"].tolist() if len(table) else [])
    table.insert(len(table.columns) - (TAGS in table), SCORE, recognition.score.tolist())
    table["top1"] = recognition.answers
    return recognition


def predict_folder(predictor: Predictor, folder: str | Path, batch_size: int = 32, top_k: int = 5,
                   keep_images: int = 0, progress: bool = True, tags: bool = False,
                   workers: int = -1) -> InferenceResult:
    """:func:`predict_files` on every file in ``folder``."""
    return predict_files(predictor, list_files(folder), batch_size, top_k, keep_images, progress, tags, workers)
