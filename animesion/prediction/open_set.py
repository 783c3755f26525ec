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
* a picture's scores are its cosine similarities to every prototype, each less that prototype's threshold
  (its margin); the best margin names it, unless it is negative: then the answer is ``unknown``. The
  checkpoint's characters share one threshold, the enrolled characters another, each the score that lets
  ``false_unknown`` of their own pictures be called unknown (:data:`FALSE_UNKNOWN`): for the checkpoint's
  characters, of the val pictures' scores to their own prototype; for the enrolled ones, of their
  pictures' leave-one-out scores, each picture against the prototype of its character's other pictures
  (:attr:`Prototypes.genuine`). A prototype of five pictures scores its own pictures higher than one of
  hundreds, and a gallery from another source scores its pictures lower: its own threshold follows both.
  Over 5 folds of holo20 (``python -m benchmarks.open_set --only folds``, the first shipped backbone) one
  threshold for both called 43% of never-seen characters unknown and let enrolled prototypes take 16% of
  the trained characters' pictures; a threshold each, 51% and 5%. ``probabilities`` are a softmax of the
  margins at a ``temperature``, so trained and enrolled characters are ranked on one scale;
* with a :class:`~.colour.ColourFeature` (``colour``), the space is the embedding joined to the picture's colour
  histogram (:func:`joint_features`), centred and whitened together, and every prototype, trained or enrolled,
  lives in it: among characters the network never trained on, its embedding tells them apart little better than
  their colours do, and worse on pictures from another source (:mod:`.colour`). Centring the histogram on the
  training pictures' mean takes away the colours every face shares (skin, background), so what is left is a
  character's own. Over 5 folds of holo20 (``python -m benchmarks.open_set --only folds``, 2026-12-07) this one
  space called 57% of never-seen characters unknown where the embedding's space, with colour joined for the
  enrolled characters only (:meth:`OpenSet.joined`, calibrations written before ``joint``), called 41%, and it
  named 77% of the enrolled characters right against 74%. Its whitening is shrunk far more (``JOINT_SHRINK``):
  the histogram's rare bins must not be blown up to noise.

The checkpoint's :class:`OpenSet` is calibrated at the end of training on the validation split; ``coverage``
records the share of val pictures its threshold keeps. The temperature is the one that fits their labels
best, and the :class:`~.confidence.Confidence` curve turns a best margin into the chance that the answer is
right. Calibrations written before ``false_unknown`` (None) keep their single threshold and their answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from .colour import ColourFeature
from .confidence import Confidence, fit_confidence

# Share of the pictures of characters a model knows (trained or enrolled) that the thresholds let be called
# unknown. Over 5 folds of holo20 in the space of embedding and colour (2026-12-08), 0.2 called 13% of the known
# test pictures and 57% of the never-seen ones unknown (0.15: 9% and 41%; 0.25: 19% and 68%); across sources 14%
# and 55% (0.15: 9% and 40%; 0.25: 20% and 67%), trained and enrolled alike. 03's ``false_unknown`` (its default).
FALSE_UNKNOWN = 0.2
SHRINK = 0.1  # added to each principal direction's spread, as a share of their mean, before whitening
# The same for the embedding joined to colour: over 5 folds of holo20, never-seen characters called unknown at
# 1 / 3 / 10: 56.6 / 57.2 / 57.5%, enrolled characters named right 77.9 / 76.5 / 74.9%, at 0.1 37% and 81%.
JOINT_SHRINK = 3.0
UNKNOWN = "unknown"
TEMPERATURES = torch.logspace(-2.5, 0, 60)  # candidates for the softmax temperature of the scores


@dataclass
class Prototypes:
    """Named prototypes: ``vectors`` [K, D] (unit length, in the projected space), how many pictures made each,
    and for enrolled characters under a colour calibration, ``joined`` [K, D + H] (unit length, in the space
    of :meth:`OpenSet.joined`; None otherwise). ``genuine`` [sum(counts)]: for enrolled characters, each
    picture's leave-one-out score, prototype by prototype (NaN for a character of one picture), from which
    the gallery's threshold is read (None: enrolled before per-source thresholds, or the checkpoint's own)."""

    names: list[str]
    vectors: Tensor
    counts: list[int] = field(default_factory=list)
    joined: Tensor | None = None
    genuine: Tensor | None = None

    def __len__(self) -> int:
        return len(self.names)

    def __add__(self, other: Prototypes) -> Prototypes:
        def both(a: Tensor | None, b: Tensor | None) -> Tensor | None:
            return torch.cat([a, b]) if a is not None and b is not None else None

        vectors = torch.cat([self.vectors, other.vectors])
        return Prototypes(self.names + other.names, vectors, self.counts + other.counts,
                          both(self.joined, other.joined), both(self.genuine, other.genuine))

    def select(self, keep: list[int]) -> Prototypes:
        """The prototypes at the indices ``keep``."""
        genuine = None
        if self.genuine is not None:
            parts = torch.split(self.genuine, self.counts)
            genuine = torch.cat([parts[i] for i in keep]) if keep else self.genuine[:0]
        return Prototypes([self.names[i] for i in keep], self.vectors[keep], [self.counts[i] for i in keep],
                          self.joined[keep] if self.joined is not None else None, genuine)


def left_one_out(features: Tensor, labels: Tensor, classes: int) -> Tensor:
    """Each unit vector's cosine to the normalised mean of its class's other vectors ([N, D], labels [N] →
    [N], grouped by class in label order as :attr:`Prototypes.genuine`; NaN for a class of one vector)."""
    sums = features.new_zeros(classes, features.shape[1]).index_add_(0, labels, features)
    others = sums[labels] - features  # [N, D]
    alone = others.norm(dim=-1) < 1e-6
    scores = (F.normalize(others, dim=-1) * features).sum(dim=-1).masked_fill(alone, float("nan"))
    return scores[torch.argsort(labels, stable=True)]


def prototypes_of(projected: Tensor, labels: Tensor, names: list[str]) -> Prototypes:
    """The prototype of every class ``0 … len(names)-1`` from its projected embeddings [N, D] (labels [N])."""
    sums = projected.new_zeros(len(names), projected.shape[1]).index_add_(0, labels, projected)
    counts = torch.bincount(labels, minlength=len(names))
    return Prototypes(list(names), F.normalize(sums, dim=-1), counts.tolist())


@dataclass
class Recognition:
    """The open-set answer for N pictures: top-k ``names`` and ``probabilities`` [N, k] over the classes and
    the enrolled characters, the ``score`` [N] (a cosine similarity) of the best prototype, its ``margin`` [N]
    over that prototype's threshold, and whether the picture is ``unknown`` [N]."""

    names: list[list[str]]
    probabilities: Tensor
    score: Tensor
    margin: Tensor
    unknown: Tensor

    @property
    def answers(self) -> list[str]:
        """The best name of each picture, or ``unknown``."""
        return [UNKNOWN if u else names[0] for names, u in zip(self.names, self.unknown.tolist())]


def joint_features(features: Tensor, colour: ColourFeature) -> Tensor:
    """Identity features [N, D + H] (``Predictor.identity``) → unit vectors [N, D + H]: the unit embedding joined to
    the unit colour histogram at the colour's weight."""
    dims = features.shape[1] - colour.dims
    learned = F.normalize(features[:, :dims].float(), dim=-1)
    histogram = colour.weight * F.normalize(features[:, dims:].float(), dim=-1)
    return torch.cat([learned, histogram], dim=1) / (1 + colour.weight ** 2) ** 0.5


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
    prototypes, their threshold and the softmax temperature; ``colour``, the histogram joined to the embedding
    (None: the embedding alone, as calibrations written before colour);
    ``false_unknown``, the share of known pictures the thresholds let be called unknown (None: a calibration
    written before it, with one threshold for every prototype, whose answers stay as they were); ``joint``: the
    centre [D + H] and whitening [D + H, K] are of the embedding joined to colour (:func:`joint_features`), where
    every prototype lives (False: calibrations written before it, whose space is the embedding's and whose
    enrolled characters are scored joined to colour after it, :meth:`joined`)."""

    center: Tensor
    whiten: Tensor
    classes: Prototypes
    threshold: float
    temperature: float
    coverage: float = 1.0  # share of the val pictures the threshold keeps
    confidence: Confidence | None = None  # None: a calibration written before confidences were fitted
    colour: ColourFeature | None = None
    false_unknown: float | None = None
    joint: bool = False

    def project(self, embeddings: Tensor) -> Tensor:
        """Identity features [N, D + H] of ``Predictor.identity`` (or, without colour, embeddings [N, D]) → unit
        vectors [N, K] of the whitened space, where prototypes live."""
        return self.whitened(self.space(embeddings))

    def space(self, embeddings: Tensor) -> Tensor:
        """Identity features → the unit vectors [N, len(center)] that the centre and whitening apply to: joined to
        colour in a ``joint`` space (:func:`joint_features`), else the embedding alone (colour columns left out)."""
        if self.joint:
            return joint_features(embeddings, self.colour)
        return F.normalize(embeddings[:, :len(self.center)].float(), dim=-1)

    def whitened(self, space: Tensor) -> Tensor:
        """Unit vectors of :meth:`space` [N, len(center)] → centred, whitened unit vectors [N, K]."""
        return F.normalize((space - self.center) @ self.whiten, dim=-1)

    def joined(self, features: Tensor) -> Tensor:
        """Identity features [N, D + H] → unit vectors [N, K + H]: the projected embedding joined to the colour
        histogram at the colour's weight, where calibrations written before ``joint`` tell enrolled characters
        apart."""
        colour = F.normalize(features[:, len(self.center):].float(), dim=-1)  # [N, H]
        return F.normalize(torch.cat([self.project(features), self.colour.weight * colour], dim=1), dim=-1)

    def joins_colour_after(self, features: Tensor) -> bool:
        """Whether enrolled characters are told apart by :meth:`joined`: a colour calibration written before
        ``joint``, given identity features that carry the histogram."""
        return self.colour is not None and not self.joint and features.shape[1] > len(self.center)

    def enrolment_space(self, features: Tensor) -> Tensor:
        """Identity features [N, D (+ H)] → the unit vectors enrolled characters are told apart by: the projected
        space [N, K], or for a colour calibration written before ``joint``, joined to colour [N, K + H]."""
        return self.joined(features) if self.joins_colour_after(features) else self.project(features)

    def enrolled(self, features: Tensor, labels: Tensor, names: list[str]) -> Prototypes:
        """The prototypes of characters enrolled from the identity features [N, D (+ H)] of their pictures
        (labels [N] in ``0 … len(names)-1``), with their joined prototypes under an older colour calibration."""
        projected = self.project(features)
        gallery = prototypes_of(projected, labels, names)
        scored = projected  # what the gallery's scores compare: :meth:`enrolment_space`
        if self.joins_colour_after(features):
            scored = self.joined(features)
            gallery.joined = prototypes_of(scored, labels, names).vectors
        if self.false_unknown is not None:
            gallery.genuine = left_one_out(scored, labels, len(names))
        return gallery

    def gallery_threshold(self, gallery: Prototypes) -> float:
        """The enrolled characters' threshold: the ``false_unknown`` quantile of the gallery's leave-one-out
        scores; the checkpoint's threshold for a calibration or a gallery written before them."""
        if self.false_unknown is None or gallery.genuine is None or not torch.isfinite(gallery.genuine).any():
            return self.threshold
        return float(torch.nanquantile(gallery.genuine.float(), self.false_unknown))

    def scores(self, embeddings: Tensor, gallery: Prototypes | None = None) -> tuple[Tensor, Prototypes]:
        """Cosine similarities [N, K] to the class prototypes and then the gallery's, and those prototypes. Under
        a colour calibration with ``false_unknown``, enrolled characters are scored joined to colour."""
        projected = self.project(embeddings)
        trained = projected @ self.classes.vectors.T
        if gallery is None or not len(gallery):
            return trained, self.classes
        if self.false_unknown is not None and self.colour is not None and gallery.joined is not None:
            enrolled = self.joined(embeddings) @ gallery.joined.T
        else:
            enrolled = projected @ gallery.vectors.T
        return torch.cat([trained, enrolled], dim=1), self.classes + gallery

    def limits(self, gallery: Prototypes | None = None) -> Tensor:
        """The threshold [K] of every prototype of :meth:`scores`: the checkpoint's, then the gallery's."""
        enrolled = [self.gallery_threshold(gallery)] * len(gallery) if gallery is not None else []
        return torch.tensor([self.threshold] * len(self.classes) + enrolled)

    def recognise(self, embeddings: Tensor, gallery: Prototypes | None = None, k: int = 5,
                  threshold: float | None = None) -> Recognition:
        """Name each picture among the classes and the enrolled characters, or call it unknown.

        ``threshold``: None uses the calibrated ones (a negative best margin is unknown); a number is one
        threshold on the best score for every prototype; 0 never answers unknown.
        """
        scores, everyone = self.scores(embeddings, gallery)
        margins = scores - self.limits(gallery)  # [N, K]
        best, index = margins.max(dim=-1)
        score = scores.gather(1, index[:, None]).squeeze(1)
        ranking = margins
        if self.false_unknown is None and gallery is not None and gallery.joined is not None and self.colour:
            ranking = self.rank_enrolled(scores, embeddings, gallery) - self.threshold
        probabilities = (ranking / self.temperature).softmax(dim=-1)
        top, idx = probabilities.topk(min(k, len(everyone)), dim=-1)
        if threshold is None:  # an old calibration whose threshold came out at 0 never said unknown
            unknown = (best < 0) & (self.false_unknown is not None or self.threshold > 0)
        else:
            unknown = score < threshold if threshold > 0 else torch.zeros_like(score, dtype=torch.bool)
        return Recognition([[everyone.names[i] for i in row] for row in idx.tolist()], top, score, best, unknown)

    def rank_enrolled(self, scores: Tensor, features: Tensor, gallery: Prototypes) -> Tensor:
        """For calibrations written before ``false_unknown``: ``scores`` [N, C + E] with the enrolled columns of
        every picture whose best prototype is enrolled replaced by its joined scores (:meth:`joined`), shifted so
        that their best keeps the picture's best score: the threshold and the confidence see the embedding's
        score; the enrolled characters are ranked by embedding and colour."""
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
        if self.false_unknown is not None:
            meta["false_unknown"] = self.false_unknown
        if self.joint:
            meta["joint"] = True
        if self.colour is not None:
            meta["colour"] = self.colour.to_meta()
        if self.confidence is None:
            return meta
        # a calibration before false_unknown is written as that version wrote it: a curve of the best score
        curve = self.confidence if self.false_unknown is not None else self.confidence.shifted(-self.threshold)
        return {**meta, "confidence": curve.to_meta()}

    @classmethod
    def from_stored(cls, tensors: dict[str, Tensor], meta: dict, class_names: list[str]) -> OpenSet:
        """The calibration a checkpoint stored with :meth:`to_tensors` and :meth:`to_meta`."""
        classes = Prototypes(list(class_names), tensors["prototypes"], list(meta["counts"]))
        # Calibrations written before whitening centred only: the identity keeps their scores.
        whiten = tensors.get("whiten", torch.eye(len(tensors["center"])))
        threshold = float(meta["threshold"])
        confidence = Confidence.from_meta(meta["confidence"]) if "confidence" in meta else None
        false_unknown = float(meta["false_unknown"]) if "false_unknown" in meta else None
        if confidence is not None and false_unknown is None:  # fitted on the best score: the same curve of the margin
            confidence = confidence.shifted(threshold)
        colour = ColourFeature.from_meta(meta["colour"]) if "colour" in meta else None
        return cls(tensors["center"], whiten, classes, threshold, float(meta["temperature"]),
                   float(meta["coverage"]), confidence, colour, false_unknown, bool(meta.get("joint", False)))


def calibrate(train_embeddings: Tensor, train_labels: Tensor, val_embeddings: Tensor, val_labels: Tensor,
              class_names: list[str], colour: ColourFeature | None = None,
              false_unknown: float = FALSE_UNKNOWN) -> OpenSet:
    """The open-set calibration of a model from the identity features of its training and validation pictures:
    their embeddings [N, D], or with ``colour``, the embeddings and colour histograms [N, D + H] of
    ``Predictor.identity`` (the space is then the joint one, :func:`joint_features`).

    The centre, the whitening and the prototypes come from the training pictures; the threshold lets
    ``false_unknown`` of the validation pictures' scores to their own prototype fall below it (and the enrolled
    characters' thresholds as much of their leave-one-out scores), the
    temperature is the one whose softmax gives their labels the highest likelihood, and the confidence curve
    is fitted to whether each was named right, by its best margin.
    """
    joint = colour is not None
    space = joint_features(train_embeddings, colour) if joint else F.normalize(train_embeddings.float(), dim=-1)
    center, whiten = whitening(space, JOINT_SHRINK if joint else SHRINK)
    uncalibrated = OpenSet(center, whiten, Prototypes(list(class_names), torch.empty(0)), 0.0, 1.0, colour=colour,
                           joint=joint)
    classes = prototypes_of(uncalibrated.whitened(space), train_labels, list(class_names))  # [C, K]
    uncalibrated.classes = classes
    scores, _ = uncalibrated.scores(val_embeddings)  # [N_val, C]
    best, named = scores.max(dim=-1)
    own = scores.gather(1, val_labels[:, None]).squeeze(1)
    threshold = float(torch.quantile(own, false_unknown)) if len(own) else 0.0
    coverage = float((best >= threshold).float().mean()) if len(scores) else 1.0
    losses = [F.cross_entropy(scores / t, val_labels).item() for t in TEMPERATURES] if len(scores) else [0.0]
    temperature = float(TEMPERATURES[int(torch.tensor(losses).argmin())])
    confidence = fit_confidence(best - threshold, named == val_labels)
    return OpenSet(center, whiten, classes, threshold, temperature, coverage, confidence, colour, false_unknown, joint)


__all__ = ["FALSE_UNKNOWN", "UNKNOWN", "OpenSet", "Prototypes", "Recognition", "calibrate", "joint_features",
           "left_one_out", "prototypes_of", "whitening"]
