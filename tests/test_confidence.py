"""The confidence of an answer: fitted on right and wrong val answers, it says how often answers are right."""

from __future__ import annotations

import logging

import torch

from animesion.prediction.confidence import Confidence, expected_calibration_error, fit_confidence, reliability
from animesion.prediction.open_set import OpenSet, Prototypes
from animesion.prediction.predictor import Predictor
from animesion.prediction.recognise import answer


def _answers(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Best scores of n answers, right ones higher on average: P(right | s) = sigmoid(12 s - 3)."""
    g = torch.Generator().manual_seed(seed)
    score = torch.rand(n, generator=g) * 0.6
    right = torch.rand(n, generator=g) < torch.sigmoid(12 * score - 3)
    return score, right


def test_fitted_curve_recovers_the_chance_of_being_right_and_holds_on_new_answers():
    score, right = _answers(4000, 0)
    fitted = fit_confidence(score, right)
    assert abs(fitted.slope - 12) < 1.5 and abs(fitted.intercept + 3) < 0.5
    fresh_score, fresh_right = _answers(4000, 1)  # answers the curve never saw
    table = reliability(fitted(fresh_score), fresh_right)
    used = table[table["answers"] >= 50]
    assert len(used) >= 6
    assert ((used["mean_confidence"] - used["share_right"]).abs() <= 0.10).all(), table
    assert expected_calibration_error(table) < 0.03
    # a curve that says 0.9 for everything is far off on the same answers
    assert expected_calibration_error(reliability(torch.full_like(fresh_score, 0.9), fresh_right)) > 0.3


def test_all_right_val_gives_a_flat_curve_below_one_and_unknown_takes_the_complement():
    flat = fit_confidence(torch.rand(20), torch.ones(20, dtype=torch.bool))
    assert flat.slope == 0 and 0.9 < float(flat(torch.tensor([0.0]))) < 1
    curve = Confidence(10.0, -2.0)
    score = torch.tensor([0.1, 0.5])
    both = curve.of_answers(score, torch.tensor([True, False]))
    assert torch.allclose(both, torch.stack([1 - curve(score)[0], curve(score)[1]]))
    assert Confidence.from_meta(curve.to_meta()) == curve
    assert torch.allclose(curve.shifted(0.3)(score - 0.3), curve(score))  # the same curve read on a margin


def _open_set(confidence: Confidence | None) -> OpenSet:
    classes = Prototypes(["a", "b"], torch.eye(2), [3, 3])
    return OpenSet(torch.zeros(2), torch.eye(2), classes, 0.9, 0.1, 0.9, confidence, false_unknown=0.2)


def test_a_calibration_written_before_confidences_keeps_its_answers_and_says_so_once(caplog):
    old = OpenSet.from_stored(_open_set(None).to_tensors(), _open_set(None).to_meta(), ["a", "b"])
    new = _open_set(Confidence(8.0, -4.0))
    assert old.confidence is None and "confidence" not in old.to_meta()
    again = OpenSet.from_stored(new.to_tensors(), new.to_meta(), ["a", "b"])
    assert again.confidence == new.confidence

    class Stub:  # what answer() reads of a predictor
        class_names = ["a", "b"]
        colour = None
        identity = Predictor.identity

    embeddings = torch.tensor([[1.0, 0.1], [0.3, 0.2], [0.1, 1.0]])
    output = {"logits": torch.zeros(3, 2), "embedding": embeddings}
    caplog.set_level(logging.WARNING)
    found = []
    for open_set in (old, old, new):
        stub = Stub()
        stub.open_set = open_set
        found.append(answer(stub, torch.zeros(3, 3, 4, 4), output, k=2))
    assert found[0].answers == found[2].answers == ["a", "unknown", "b"]  # the same answers either way
    assert sum("before confidences were fitted" in r.message for r in caplog.records) == 1
    assert torch.all((found[0].confidence >= 0) & (found[0].confidence <= 1))
    # read on the margin over the threshold (0.9)
    assert torch.allclose(found[2].confidence, new.confidence.of_answers(found[2].score - 0.9, found[2].unknown))


def test_a_calibration_written_before_per_gallery_thresholds_says_so_once_and_keeps_its_confidences(caplog):
    stored = _open_set(Confidence(8.0, -4.0))
    meta = {k: v for k, v in stored.to_meta().items() if k != "false_unknown"}
    meta["confidence"] = [8.0, -11.2]  # that version's curve of the best score: sigmoid(8 · score − 11.2)
    old = OpenSet.from_stored(stored.to_tensors(), meta, ["a", "b"])

    class Stub:  # what answer() reads of a predictor
        class_names = ["a", "b"]
        colour = None
        identity = Predictor.identity
        open_set = old

    output = {"logits": torch.zeros(3, 2), "embedding": torch.tensor([[1.0, 0.1], [0.3, 0.2], [0.1, 1.0]])}
    caplog.set_level(logging.WARNING)
    found = [answer(Stub(), torch.zeros(3, 3, 4, 4), output, k=2) for _ in range(2)]
    assert found[0].answers == ["a", "unknown", "b"]
    assert sum("before enrolled characters had a threshold" in r.message for r in caplog.records) == 1
    named = torch.sigmoid(8.0 * found[0].score - 11.2)
    assert torch.allclose(found[0].confidence, torch.where(found[0].unknown, 1 - named, named), atol=1e-6)
