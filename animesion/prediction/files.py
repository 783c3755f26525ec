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

from ..data.images import file_tail, load_rgb, truncation_note
from ..errors import DataError, ImageLoadError
from ..performance import resolve_workers
from ..utils.progress import progress_bar
from .open_set import UNKNOWN, Prototypes
from .predictor import Predictor
from .recognise import Answers, recognise

MIN_BATCHES_FOR_WORKERS = 4  # fewer batches are read in this process (measured: a worker then slows it)
TAGS = "tags"  # column of the predicted tag set (a list per image)
BEST_MATCH, SCORE = "best_match", "score"  # open-set columns: the closest character and its cosine similarity
CONFIDENCE = "confidence"  # the chance (0–1) that the answer in top1 is right (prediction/confidence.py)
NOTES = "notes"  # what to know about a picture that was answered anyway (a truncated file)


@dataclass
class InferenceResult:
    """``table``: one row per readable image: ``file``, the top-k names and probabilities, the answer's
    ``confidence`` and, with a calibrated checkpoint, ``best_match`` and ``score`` (``top1`` is then
    ``unknown`` when the score is below the threshold; ``top1_prob`` stays the best match's probability
    among the characters, and ``confidence`` is that of the answer, unknown), ``tags`` when tagging, and
    ``notes`` (empty, or why the answer may suffer: a truncated file). ``failures``: one row per file that
    could not be read (file, reason). ``embeddings``: [N, D (+ H)], one row per row of ``table``, as
    ``Predictor.identity`` gives them (the L2-normalised embedding, then the colour histogram, if any);
    ``tag_scores`` [N, tags]: a tag head's probabilities, when tagging with one (else None)."""

    table: pd.DataFrame
    failures: pd.DataFrame
    embeddings: Tensor = field(repr=False)
    tag_scores: Tensor | None = field(default=None, repr=False)

    def top_lists(self, files: list[str]) -> tuple[list[list[str]], list[list[float]]]:
        """The candidates of ``files`` (rows of ``table``): top-k character names and their probabilities,
        the best match in place of ``unknown`` (the answer itself is :meth:`answer_texts`)."""
        rows = self.table.set_index("file").loc[files]
        ranks = [c for c in self.table.columns if c.startswith("top") and c[3:].isdigit()]
        names = rows[ranks].values.tolist()
        if BEST_MATCH in rows:
            names = [[match, *rest[1:]] for match, rest in zip(rows[BEST_MATCH], names)]
        return names, rows[[f"{r}_prob" for r in ranks]].values.tolist()

    def answer_texts(self, files: list[str]) -> list[str]:
        """The answer to each of ``files`` in words: the name (or ``unknown``, with its best match) and the
        confidence."""
        rows = self.table.set_index("file").loc[files]
        texts = [f"{top} (confidence {c:.2f})" for top, c in zip(rows["top1"], rows[CONFIDENCE])]
        if BEST_MATCH in rows:
            texts = [t + (f", best match {m}" if top == UNKNOWN else "")
                     for t, top, m in zip(texts, rows["top1"], rows[BEST_MATCH])]
        return texts

    def captions(self, files: list[str], width: int = 44) -> list[str]:
        """Gallery captions of ``files``: the file name, the answer with its confidence, and the predicted
        tags (wrapped) when tagging."""
        rows = self.table.set_index("file").loc[files]
        captions = [f"{Path(f).name}\n{answer}" for f, answer in zip(files, self.answer_texts(files))]
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
    """The files of a folder as model inputs: ``{"file", "image", "note"}``, or ``{"file", "reason"}`` when
    unreadable; ``note`` says when a file was cut short (it is answered from the part that was read)."""

    def __init__(self, files: list[Path], transform: Callable, draft_size: int) -> None:
        self.files = files
        self.transform = transform
        self.draft_size = draft_size  # big JPEGs decode at reduced scale, as in the validation loader

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.files[index]
        try:
            image = self.transform(load_rgb(path, draft_size=self.draft_size))
            return {"file": str(path), "image": image, "note": truncation_note(path, file_tail(path))}
        except ImageLoadError as err:
            return {"file": str(path), "reason": str(err).split(": ", 1)[-1]}


def collate_files(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch: the readable files, their notes and images stacked [B, 3, S, S] (None if none), and the failures."""
    good = [item for item in items if "image" in item]
    return {"files": [item["file"] for item in good], "notes": [item["note"] for item in good],
            "images": torch.stack([item["image"] for item in good]) if good else None,
            "failures": [{"file": item["file"], "reason": item["reason"]} for item in items if "reason" in item]}


def _rows(files: list[str], answers: Answers, notes: list[str]) -> list[dict[str, Any]]:
    """One table row per picture: file, top-k names and probabilities, the confidence, the open-set columns,
    the tags, the notes."""
    rows = []
    for n, (name, names, probs) in enumerate(zip(files, answers.names, answers.probabilities.tolist())):
        row: dict[str, Any] = {"file": name}
        for rank, (top, prob) in enumerate(zip(names, probs), 1):
            row[f"top{rank}"], row[f"top{rank}_prob"] = top, prob
        row[CONFIDENCE] = float(answers.confidence[n])
        if answers.score is not None:
            row["top1"] = answers.answers[n]
            row[BEST_MATCH], row[SCORE] = answers.best_match[n], float(answers.score[n])
        if answers.tags is not None:
            row[TAGS] = answers.tags[n]
        row[NOTES] = notes[n]
        rows.append(row)
    return rows


def predict_files(predictor: Predictor, files: Sequence[Path], batch_size: int = 32, top_k: int = 5, *,
                  gallery: Prototypes | None = None, threshold: float | None = None, tags: bool = False,
                  tag_rule: str | float = "calibrated", tag_overrides: dict[str, float] | None = None,
                  progress: bool = True, workers: int = -1) -> InferenceResult:
    """The :func:`recognise` answers (and embeddings) of ``files``, ``batch_size`` images per pass.

    ``gallery``, ``threshold``: the enrolled characters and the unknown threshold (None: the calibrated one).
    ``tags``: also the predicted tag set of each image (a tag head's at ``tag_rule`` and ``tag_overrides``,
    or a vision+tags model's masked tags).
    ``workers``: processes that decode the next batches while the model classifies this one (-1 picks for
    the cores; fewer than ``MIN_BATCHES_FOR_WORKERS`` batches are read in this process).
    """
    predictor.require_tags(tags)
    dataset = FolderImages(list(files), predictor.transform, predictor.decode_size)
    # A worker costs a process start and only pays off once it can decode ahead over several batches.
    batches = math.ceil(len(files) / batch_size)
    workers = resolve_workers(workers, predictor.device.type) if batches >= MIN_BATCHES_FOR_WORKERS else 0
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=max(workers, 0), collate_fn=collate_files,
                        pin_memory=predictor.device.type == "cuda")
    rows, failures, embeddings, scores = [], [], [], []
    for batch in progress_bar(loader, desc="classifying", disable=not progress):
        failures += batch["failures"]
        if batch["images"] is None:
            continue
        answers = recognise(predictor, batch["images"], gallery, threshold, top_k, tags, tag_rule, tag_overrides)
        embeddings.append(answers.embeddings)
        if answers.tag_scores is not None:
            scores.append(answers.tag_scores)
        rows += _rows(batch["files"], answers, batch["notes"])
    tag_scores = torch.cat(scores) if scores else None
    if tag_scores is None and tags and predictor.has_tag_head:
        tag_scores = torch.empty(0, len(predictor.tag_set))
    return InferenceResult(pd.DataFrame(rows) if rows else pd.DataFrame(columns=_columns(predictor, top_k, tags)),
                           pd.DataFrame(failures, columns=["file", "reason"]),
                           torch.cat(embeddings) if embeddings else torch.empty(0, 0), tag_scores)


def _columns(predictor: Predictor, top_k: int, tags: bool) -> list[str]:
    """The columns of a table without a readable picture (a table with rows takes them from its rows)."""
    k = min(top_k, len(predictor.class_names))
    ranks = [f"top{r}{suffix}" for r in range(1, k + 1) for suffix in ("", "_prob")]
    return ["file", *ranks, CONFIDENCE, *([BEST_MATCH, SCORE] if predictor.open_set is not None else []),
            *([TAGS] if tags else []), NOTES]


def predict_folder(predictor: Predictor, folder: str | Path, batch_size: int = 32, top_k: int = 5,
                   **options: Any) -> InferenceResult:
    """:func:`predict_files` on every file in ``folder`` (``options``: its keyword arguments)."""
    return predict_files(predictor, list_files(folder), batch_size, top_k, **options)
