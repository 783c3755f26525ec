"""Open-set recognition: characters a model was never trained on, enrolled from a few pictures, and "unknown".

Every picture is compared with prototypes in the model's embedding space, as face recognition does:

* embeddings are L2-normalised, centred on the mean of the training pictures and normalised again
  (centring removes what all the pictures share, so the cosine measures what tells them apart);
* a prototype is the normalised mean of a character's projected embeddings: the training pictures for
  the checkpoint's own classes, a handful of pictures for an enrolled character (:class:`Prototypes`);
* a picture's scores are its cosine similarities to every prototype; the best one names it, unless it
  is below the ``threshold``: then the answer is ``unknown``. ``probabilities`` are a softmax of the
  scores at a ``temperature``, so trained and enrolled characters are ranked on one scale.

The checkpoint's :class:`OpenSet` is calibrated at the end of training on the validation split: the
threshold keeps ``coverage`` (95%) of the known validation pictures, and the temperature is the one that
fits their labels best.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

COVERAGE = 0.95  # share of known validation pictures the calibrated threshold keeps
UNKNOWN = "unknown"
TEMPERATURES = torch.logspace(-2.5, 0, 60)  # candidates for the softmax temperature of the scores


@dataclass
class Prototypes:
    """Named prototypes: ``vectors`` [K, D] (unit length, in the projected space) and how many pictures made each."""

    names: list[str]
    vectors: Tensor
    counts: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def __add__(self, other: Prototypes) -> Prototypes:
        return Prototypes(self.names + other.names, torch.cat([self.vectors, other.vectors]),
                          self.counts + other.counts)


def prototypes_of(projected: Tensor, labels: Tensor, names: list[str]) -> Prototypes:
    """The prototype of every class ``0 … len(names)-1`` from its projected embeddings [N, D] (labels [N])."""
    sums = projected.new_zeros(len(names), projected.shape[1]).index_add_(0, labels, projected)
    counts = torch.bincount(labels, minlength=len(names))
    return Prototypes(list(names), F.normalize(sums, dim=-1), counts.tolist())


@dataclass
class Recognition:
    """The open-set answer for N pictures: top-k ``names`` and ``probabilities`` [N, k] over the classes and
    the enrolled characters, the best ``score`` [N] (a cosine similarity) and whether it is ``unknown`` [N]."""

    names: list[list[str]]
    probabilities: Tensor
    score: Tensor
    unknown: Tensor

    @property
    def answers(self) -> list[str]:
        """The best name of each picture, or ``unknown``."""
        return [UNKNOWN if u else names[0] for names, u in zip(self.names, self.unknown.tolist())]


@dataclass
class OpenSet:
    """A checkpoint's calibration: the centre [D] and class prototypes of its embedding space, the threshold
    on the best score and the softmax temperature."""

    center: Tensor
    classes: Prototypes
    threshold: float
    temperature: float
    coverage: float = COVERAGE

    def project(self, embeddings: Tensor) -> Tensor:
        """Unit embeddings [N, D] → centred unit vectors [N, D], where prototypes live."""
        return F.normalize(F.normalize(embeddings.float(), dim=-1) - self.center, dim=-1)

    def scores(self, embeddings: Tensor, gallery: Prototypes | None = None) -> tuple[Tensor, Prototypes]:
        """Cosine similarities [N, K] to the class prototypes and then the gallery's, and those prototypes."""
        everyone = self.classes + gallery if gallery is not None and len(gallery) else self.classes
        return self.project(embeddings) @ everyone.vectors.T, everyone

    def recognise(self, embeddings: Tensor, gallery: Prototypes | None = None, k: int = 5,
                  threshold: float | None = None) -> Recognition:
        """Name each picture among the classes and the enrolled characters, or call it unknown.

        ``threshold``: None uses the calibrated one; 0 never answers unknown.
        """
        scores, everyone = self.scores(embeddings, gallery)
        probabilities = (scores / self.temperature).softmax(dim=-1)
        top, idx = probabilities.topk(min(k, len(everyone)), dim=-1)
        best = scores.max(dim=-1).values
        limit = self.threshold if threshold is None else threshold
        unknown = best < limit if limit > 0 else torch.zeros_like(best, dtype=torch.bool)
        return Recognition([[everyone.names[i] for i in row] for row in idx.tolist()], top, best, unknown)

    def to_tensors(self) -> dict[str, Tensor]:
        """What a checkpoint stores as tensors (the numbers go in :meth:`to_meta`)."""
        return {"center": self.center.contiguous(), "prototypes": self.classes.vectors.contiguous()}

    def to_meta(self) -> dict[str, object]:
        return {"threshold": self.threshold, "temperature": self.temperature, "coverage": self.coverage,
                "counts": self.classes.counts}

    @classmethod
    def from_stored(cls, tensors: dict[str, Tensor], meta: dict, class_names: list[str]) -> OpenSet:
        """The calibration a checkpoint stored with :meth:`to_tensors` and :meth:`to_meta`."""
        classes = Prototypes(list(class_names), tensors["prototypes"], list(meta["counts"]))
        return cls(tensors["center"], classes, float(meta["threshold"]), float(meta["temperature"]),
                   float(meta["coverage"]))


def calibrate(train_embeddings: Tensor, train_labels: Tensor, val_embeddings: Tensor, val_labels: Tensor,
              class_names: list[str], coverage: float = COVERAGE) -> OpenSet:
    """The open-set calibration of a model from the embeddings [N, D] of its training and validation pictures.

    The centre and the prototypes come from the training pictures; the threshold is the best-score quantile
    that keeps ``coverage`` of the validation pictures, and the temperature the one whose softmax gives
    their labels the highest likelihood.
    """
    center = F.normalize(train_embeddings.float(), dim=-1).mean(dim=0)
    uncalibrated = OpenSet(center, Prototypes(list(class_names), torch.empty(0)), 0.0, 1.0, coverage)
    classes = prototypes_of(uncalibrated.project(train_embeddings), train_labels, list(class_names))
    uncalibrated.classes = classes
    scores, _ = uncalibrated.scores(val_embeddings)  # [N_val, C]
    threshold = float(torch.quantile(scores.max(dim=-1).values, 1 - coverage)) if len(scores) else 0.0
    losses = [F.cross_entropy(scores / t, val_labels).item() for t in TEMPERATURES] if len(scores) else [0.0]
    temperature = float(TEMPERATURES[int(torch.tensor(losses).argmin())])
    return OpenSet(center, classes, threshold, temperature, coverage)


__all__ = ["COVERAGE", "UNKNOWN", "OpenSet", "Prototypes", "Recognition", "calibrate", "prototypes_of"]
