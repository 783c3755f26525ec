"""Open-set recognition: characters a model was never trained on, enrolled from a few pictures, and "unknown".

Every picture is compared with prototypes in the model's embedding space, as face recognition does:

* embeddings are L2-normalised, centred on the mean of the training pictures, PCA-whitened and normalised
  again (Jégou & Chum, 2012): centring removes what all the pictures share, and whitening gives every
  direction of the training pictures' spread the same weight, so directions the 12, or 3263, training
  characters did not need still tell new characters apart. The whitening is shrunk towards the identity
  (``SHRINK`` of the mean spread is added to each direction's), so directions with little spread are not
  blown up to noise;
* a prototype is the normalised mean of a character's projected embeddings: the training pictures for
  the checkpoint's own classes, a handful of pictures for an enrolled character (:class:`Prototypes`);
* a picture's scores are its cosine similarities to every prototype; the best one names it, unless it
  is below the ``threshold``: then the answer is ``unknown``. ``probabilities`` are a softmax of the
  scores at a ``temperature``, so trained and enrolled characters are ranked on one scale;
* with a :class:`~.colour.ColourFeature` (``colour``), a picture answered with an enrolled character is
  ranked again among the enrolled characters by its embedding joined to its colour histogram
  (:meth:`OpenSet.joined`): among characters the network never trained on, its embedding tells them apart no
  better than their colours do, and worse on pictures from another source (:mod:`.colour`). Whether a
  picture is a trained character, an enrolled one or unknown is decided by the embedding alone, whose
  threshold and confidence are calibrated; the colour only changes which enrolled character it is.

The checkpoint's :class:`OpenSet` is calibrated at the end of training on the validation split. A val
picture the model names wrong stands in for a picture it does not know, so the threshold is the score
that best tells the val pictures named right from those named wrong (:func:`threshold_of`); ``coverage``
records the share of val pictures it keeps. The temperature is the one that fits their labels best, and
the :class:`~.confidence.Confidence` curve turns a best score into the chance that the answer is right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from .colour import ColourFeature
from .confidence import Confidence, fit_confidence

COVERAGE = 0.95  # share of the val pictures named right kept when too few are named wrong to calibrate on
MIN_WRONG = 5  # val pictures named wrong needed for the right/wrong rule of threshold_of
SHRINK = 0.1  # added to each principal direction's spread, as a share of their mean, before whitening
UNKNOWN = "unknown"
TEMPERATURES = torch.logspace(-2.5, 0, 60)  # candidates for the softmax temperature of the scores


@dataclass
class Prototypes:
    """Named prototypes: ``vectors`` [K, D] (unit length, in the projected space), how many pictures made each,
    and for enrolled characters under a colour calibration, ``joined`` [K, D + H] (unit length, in the space
    of :meth:`OpenSet.joined`; None otherwise)."""

    names: list[str]
    vectors: Tensor
    counts: list[int] = field(default_factory=list)
    joined: Tensor | None = None

    def __len__(self) -> int:
        return len(self.names)

    def __add__(self, other: Prototypes) -> Prototypes:
        both = self.joined is not None and other.joined is not None
        return Prototypes(self.names + other.names, torch.cat([self.vectors, other.vectors]),
                          self.counts + other.counts, torch.cat([self.joined, other.joined]) if both else None)

    def select(self, keep: list[int]) -> Prototypes:
        """The prototypes at the indices ``keep``."""
        return Prototypes([self.names[i] for i in keep], self.vectors[keep], [self.counts[i] for i in keep],
                          self.joined[keep] if self.joined is not None else None)


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


def whitening(embeddings: Tensor, shrink: float = SHRINK) -> tuple[Tensor, Tensor]:
    """The centre [D] and whitening matrix [D, K] of unit ``embeddings`` [N, D] (PCA, K = min(N, D) directions)."""
    x = F.normalize(embeddings.float(), dim=-1)
    center = x.mean(dim=0)
    _, singular, directions = torch.linalg.svd(x - center, full_matrices=False)  # directions [K, D]
    spread = singular / max(len(x), 1) ** 0.5  # standard deviation along each direction
    return center, directions.T / (spread + shrink * spread.mean()).clamp(min=1e-8)


@dataclass
class OpenSet:
    """A checkpoint's calibration: the centre [D] and whitening [D, K] of its embedding space, the class
    prototypes, the threshold on the best score and the softmax temperature; ``colour``, the histogram that
    ranks enrolled characters beside the embedding (None: the embedding alone, as calibrations written before
    colour)."""

    center: Tensor
    whiten: Tensor
    classes: Prototypes
    threshold: float
    temperature: float
    coverage: float = 1.0  # share of the val pictures the threshold keeps
    confidence: Confidence | None = None  # None: a calibration written before confidences were fitted
    colour: ColourFeature | None = None

    def project(self, embeddings: Tensor) -> Tensor:
        """Embeddings [N, D] (or identity features [N, D + H] of ``Predictor.identity``, whose colour columns it
        leaves out) → unit vectors [N, K] of the whitened space, where prototypes live."""
        learned = embeddings[:, :len(self.center)].float()
        return F.normalize((F.normalize(learned, dim=-1) - self.center) @ self.whiten, dim=-1)

    def joined(self, features: Tensor) -> Tensor:
        """Identity features [N, D + H] → unit vectors [N, K + H]: the projected embedding joined to the colour
        histogram at the colour's weight, where enrolled characters are told apart."""
        colour = F.normalize(features[:, len(self.center):].float(), dim=-1)  # [N, H]
        return F.normalize(torch.cat([self.project(features), self.colour.weight * colour], dim=1), dim=-1)

    def enrolled(self, features: Tensor, labels: Tensor, names: list[str]) -> Prototypes:
        """The prototypes of characters enrolled from the identity features [N, D (+ H)] of their pictures
        (labels [N] in ``0 … len(names)-1``), with their joined prototypes under a colour calibration."""
        gallery = prototypes_of(self.project(features), labels, names)
        if self.colour is not None and features.shape[1] > len(self.center):
            gallery.joined = prototypes_of(self.joined(features), labels, names).vectors
        return gallery

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
        best = scores.max(dim=-1).values
        if gallery is not None and gallery.joined is not None and self.colour is not None:
            scores = self.rank_enrolled(scores, embeddings, gallery)
        probabilities = (scores / self.temperature).softmax(dim=-1)
        top, idx = probabilities.topk(min(k, len(everyone)), dim=-1)
        limit = self.threshold if threshold is None else threshold
        unknown = best < limit if limit > 0 else torch.zeros_like(best, dtype=torch.bool)
        return Recognition([[everyone.names[i] for i in row] for row in idx.tolist()], top, best, unknown)

    def rank_enrolled(self, scores: Tensor, features: Tensor, gallery: Prototypes) -> Tensor:
        """``scores`` [N, C + E] with the enrolled columns of every picture whose best prototype is enrolled
        replaced by its joined scores (:meth:`joined`), shifted so that their best keeps the picture's best
        score: the threshold and the confidence still see the embedding's score; the enrolled characters are
        ranked by embedding and colour."""
        classes = len(self.classes)
        joined = self.joined(features) @ gallery.joined.T  # [N, E]
        rows = scores.argmax(dim=-1) >= classes
        shift = scores[:, classes:].max(dim=-1, keepdim=True).values - joined.max(dim=-1, keepdim=True).values
        ranked = scores.clone()
        ranked[rows, classes:] = (joined + shift)[rows]
        return ranked

    def to_tensors(self) -> dict[str, Tensor]:
        """What a checkpoint stores as tensors (the numbers go in :meth:`to_meta`)."""
        return {"center": self.center.contiguous(), "whiten": self.whiten.contiguous(),
                "prototypes": self.classes.vectors.contiguous()}

    def to_meta(self) -> dict[str, object]:
        meta = {"threshold": self.threshold, "temperature": self.temperature, "coverage": self.coverage,
                "counts": self.classes.counts}
        if self.colour is not None:
            meta["colour"] = self.colour.to_meta()
        return meta if self.confidence is None else {**meta, "confidence": self.confidence.to_meta()}

    @classmethod
    def from_stored(cls, tensors: dict[str, Tensor], meta: dict, class_names: list[str]) -> OpenSet:
        """The calibration a checkpoint stored with :meth:`to_tensors` and :meth:`to_meta`."""
        classes = Prototypes(list(class_names), tensors["prototypes"], list(meta["counts"]))
        # Calibrations written before whitening centred only: the identity keeps their scores.
        whiten = tensors.get("whiten", torch.eye(len(tensors["center"])))
        confidence = Confidence.from_meta(meta["confidence"]) if "confidence" in meta else None
        colour = ColourFeature.from_meta(meta["colour"]) if "colour" in meta else None
        return cls(tensors["center"], whiten, classes, float(meta["threshold"]),
                   float(meta["temperature"]), float(meta["coverage"]), confidence, colour)


def threshold_of(best: Tensor, right: Tensor) -> float:
    """The threshold on the best scores [N] of val pictures, ``right`` [N] saying which were named right.

    Halfway between the median best score of the pictures named right and that of the ones named wrong;
    medians, because a few dozen wrong answers make the tails noisy. On the 12-character holo20 protocol
    (``python -m benchmarks.open_set``) this calls most never-seen characters unknown, where keeping 95% of all val
    pictures called almost none: the wrong answers sit low, and a threshold under them keeps them. With fewer
    than ``MIN_WRONG`` wrong answers, it keeps ``COVERAGE`` of the right ones.
    """
    if len(best) == 0 or not right.any():
        return 0.0
    if int((~right).sum()) < MIN_WRONG:
        return float(torch.quantile(best[right], 1 - COVERAGE))
    return float((best[right].median() + best[~right].median()) / 2)


def calibrate(train_embeddings: Tensor, train_labels: Tensor, val_embeddings: Tensor, val_labels: Tensor,
              class_names: list[str], colour: ColourFeature | None = None) -> OpenSet:
    """The open-set calibration of a model from the embeddings [N, D] of its training and validation pictures;
    ``colour``: the histogram that will rank enrolled characters (stored, not fitted).

    The centre, the whitening and the prototypes come from the training pictures; the threshold tells the
    validation pictures named right from those named wrong (:func:`threshold_of`), the temperature is the
    one whose softmax gives their labels the highest likelihood, and the confidence curve is fitted to
    whether each was named right.
    """
    center, whiten = whitening(train_embeddings)
    uncalibrated = OpenSet(center, whiten, Prototypes(list(class_names), torch.empty(0)), 0.0, 1.0, colour=colour)
    classes = prototypes_of(uncalibrated.project(train_embeddings), train_labels, list(class_names))
    uncalibrated.classes = classes
    scores, _ = uncalibrated.scores(val_embeddings)  # [N_val, C]
    best, named = scores.max(dim=-1)
    threshold = threshold_of(best, named == val_labels)
    coverage = float((best >= threshold).float().mean()) if len(scores) else 1.0
    losses = [F.cross_entropy(scores / t, val_labels).item() for t in TEMPERATURES] if len(scores) else [0.0]
    temperature = float(TEMPERATURES[int(torch.tensor(losses).argmin())])
    confidence = fit_confidence(best, named == val_labels)
    return OpenSet(center, whiten, classes, threshold, temperature, coverage, confidence, colour)


__all__ = ["COVERAGE", "UNKNOWN", "OpenSet", "Prototypes", "Recognition", "calibrate", "prototypes_of",
           "threshold_of", "whitening"]
