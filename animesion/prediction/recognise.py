"""``recognise``: the one way from pictures to answers, shared by tables of files (05 and the command line),
the upload widget and the attention maps (06).

Without an open-set calibration the answer is the classifier's top-k. With one, the pictures are ranked among
the checkpoint's characters and the enrolled ``gallery`` by their embeddings, and a picture whose best score
is below the threshold is answered ``unknown`` (see :mod:`.open_set`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from PIL import Image
from torch import Tensor

from ..models.output import ModelOutput
from .confidence import answer_confidence
from .open_set import UNKNOWN, Prototypes
from .predictor import Predictor
from .tag_thresholds import thresholds_for

log = logging.getLogger(__name__)


@dataclass
class Answers:
    """The answers for N pictures. ``names`` and ``probabilities`` [N, k]: the top-k characters and their
    probabilities (over the classes and the enrolled characters when the checkpoint is calibrated).
    ``answers``: the best name, or ``unknown``; ``best_match``: the best name either way. ``score`` [N]: the
    best cosine similarity, and ``unknown`` [N], with a calibration (else None and all False).
    ``confidence`` [N]: the chance (0–1) that the answer given is right (:mod:`.confidence`; for ``unknown``,
    that the picture is not its best match). ``embeddings`` [N, D (+ H)] (``Predictor.identity``: the
    L2-normalised embedding, then the colour histogram under a colour calibration); ``tags``: the predicted
    tag set per picture, when asked for (a tag head's in the order of their scores), and ``tag_scores``
    [N, tags] the tag head's probabilities (None for the masked tags of a vision+tags model)."""

    names: list[list[str]]
    probabilities: Tensor
    answers: list[str]
    best_match: list[str]
    score: Tensor | None
    unknown: Tensor
    confidence: Tensor
    embeddings: Tensor
    tags: list[list[str]] | None = None
    tag_scores: Tensor | None = None

    def __len__(self) -> int:
        return len(self.answers)

    def describe(self, i: int) -> str:
        """Picture ``i``'s answer in words: the name (or ``unknown``) and its confidence, with the best match of
        an unknown picture."""
        text = f"{self.answers[i]} (confidence {float(self.confidence[i]):.2f})"
        return text + (f", best match {self.best_match[i]}" if self.unknown[i] else "")


def answer(predictor: Predictor, batch: Tensor, output: ModelOutput, gallery: Prototypes | None = None,
           threshold: float | None = None, k: int = 5) -> Answers:
    """The answers of a model ``output`` (from ``predictor.forward(batch)``) among the checkpoint's characters
    and the ``gallery``. ``threshold``: None uses the calibrated one; 0 never answers unknown."""
    embeddings = predictor.identity(batch, output).cpu()
    open_set = predictor.open_set
    if open_set is None:
        probabilities = output["logits"].float().softmax(-1).cpu()
        top, idx = probabilities.topk(min(k, probabilities.shape[-1]), dim=-1)
        names = [[predictor.class_names[i] for i in row] for row in idx.tolist()]
        best = [row[0] for row in names]
        unknown = torch.zeros(len(best), dtype=torch.bool)
        return Answers(names, top, best, best, None, unknown, top[:, 0], embeddings)
    found = open_set.recognise(embeddings, gallery, k, threshold)
    if open_set.false_unknown is None:
        _say_once_old_thresholds(id(open_set))
    if open_set.confidence is not None:
        confidence = open_set.confidence.of_answers(found.margin, found.unknown)
    else:
        _say_once_uncalibrated(id(open_set))
        confidence = answer_confidence(found.probabilities[:, 0], found.unknown)
    best = [row[0] for row in found.names]
    return Answers(found.names, found.probabilities, found.answers, best, found.score, found.unknown, confidence,
                   embeddings)


@functools.cache
def _say_once_old_thresholds(_calibration: int) -> None:
    log.warning("This checkpoint's calibration was written before enrolled characters had a threshold of their "
                "own: its answers are unchanged, with one threshold for every character (train it again with this "
                "version for thresholds that follow the gallery).")


@functools.cache
def _say_once_uncalibrated(_calibration: int) -> None:
    log.warning("This checkpoint's calibration was written before confidences were fitted: its answers are "
                "unchanged, and their confidence is the top-1 probability, which is not calibrated (train it "
                "again with this version for a calibrated one).")


def recognise(predictor: Predictor, images: Tensor | Sequence[Image.Image], gallery: Prototypes | None = None,
              threshold: float | None = None, k: int = 5, tags: bool = False, tag_rule: str | float = "calibrated",
              tag_overrides: dict[str, float] | None = None) -> Answers:
    """Name each picture (a batch [B, 3, S, S] or decoded pictures) among the checkpoint's characters and the
    enrolled ``gallery``, or call it unknown; ``tags``: also its predicted tag set (tag-predicting checkpoints):
    a tag head's tags at ``tag_rule`` with the per-category ``tag_overrides`` (:mod:`.tag_thresholds`), or the
    masked tags a vision+tags model fills."""
    predictor.require_tags(tags)
    batch = images if isinstance(images, Tensor) else predictor.to_batch(images)
    output = predictor.forward(batch)
    answers = answer(predictor, batch, output, gallery, threshold, k)
    if tags and predictor.has_tag_head:
        answers.tag_scores = output["tag_logits"].float().sigmoid().cpu()
        answers.tags = chosen_tags(answers.tag_scores, predictor, tag_rule, tag_overrides)
    elif tags:
        answers.tags = predictor.tokenizer.predicted_tags(output["token_logits"].argmax(-1).cpu())
    return answers


def chosen_tags(scores: Tensor, predictor: Predictor, rule: str | float = "calibrated",
                overrides: dict[str, float] | None = None) -> list[list[str]]:
    """Each picture's tags whose scores [N, tags] pass their thresholds, best score first."""
    passed = scores >= thresholds_for(scores, predictor.tag_set, predictor.tag_thresholds, rule, overrides)
    order = scores.argsort(dim=1, descending=True)
    names = predictor.tag_set.names
    return [[names[j] for j in row if keep[j]] for row, keep in zip(order.tolist(), passed.tolist())]


__all__ = ["UNKNOWN", "Answers", "answer", "chosen_tags", "recognise"]
