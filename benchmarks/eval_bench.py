"""Evaluation statistics for 3263 classes: the vectorised metrics against a per-sample Python loop."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import torch

from animesion.evaluation.metrics import confused_pairs, per_class_accuracy, summary
from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.prediction.predictions import Predictions

from .report import Section, Table, ratio
from .timing import Work, interleaved_rates

NUM_CLASSES = 3263
SAMPLES = 50_000  # about the size of DAF:re's validation and test splits together
REPEATS = 5


def fake_predictions(samples: int, num_classes: int) -> Predictions:
    """Predictions of a model that is right about 60% of the time (k = 5)."""
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, num_classes, (samples,), generator=g)
    topk = torch.randint(0, num_classes, (samples, 5), generator=g)
    right = torch.rand(samples, generator=g) < 0.6
    topk[right, 0] = labels[right]
    prob = torch.rand(samples, 5, generator=g).sort(dim=1, descending=True).values
    return Predictions(labels, topk, prob, torch.arange(samples), torch.rand(samples, generator=g))


def loop_per_class(preds: Predictions, class_names: list[str]) -> dict[str, float]:
    """Per-class top-1 accuracy counted sample by sample in Python, as evaluation scripts often do."""
    seen, right = Counter(), Counter()
    for label, top in zip(preds.labels.tolist(), preds.topk_idx[:, 0].tolist()):
        seen[label] += 1
        right[label] += top == label
    return {class_names[c]: 100.0 * right[c] / seen[c] for c in seen}


def loop_confusions(preds: Predictions, class_names: list[str], top: int = 10) -> list[tuple[str, str, int]]:
    """The most frequent mistakes, counted sample by sample in Python."""
    pairs = Counter((t, p) for t, p in zip(preds.labels.tolist(), preds.topk_idx[:, 0].tolist()) if t != p)
    return [(class_names[t], class_names[p], n) for (t, p), n in pairs.most_common(top)]


def run(device: torch.device, rounds: int) -> Section:
    """Time of top-1/top-5, per-class accuracy and the top confusions, and their share of a forward pass."""
    preds = fake_predictions(SAMPLES, NUM_CLASSES)
    names = [f"character_{i}" for i in range(NUM_CLASSES)]

    def repeated(fn: Callable) -> Work:
        """Run ``fn`` REPEATS times, so one round lasts long enough to time."""
        return lambda: sum((fn(preds, names), SAMPLES)[1] for _ in range(REPEATS))

    rates = interleaved_rates({
        "per_class_loop": repeated(loop_per_class), "per_class": repeated(per_class_accuracy),
        "confusions_loop": repeated(loop_confusions), "confusions": repeated(confused_pairs),
        "summary": repeated(lambda preds, names: summary(preds)),
    }, rounds, device, warmup=1)
    model = create_model(ModelSpec(model_name="shallow", num_classes=NUM_CLASSES, image_size=128)).eval().to(device)
    images = torch.randn(64, 3, 128, 128, device=device)
    with torch.inference_mode():
        forward = interleaved_rates({"forward": lambda: len(model(images)["logits"])}, rounds, device, warmup=1)
    forward_s = SAMPLES / forward["forward"].best
    ms = {name: 1000 * SAMPLES / rate.best for name, rate in rates.items()}
    table = Table(f"Evaluation statistics over {SAMPLES:,} predictions of {NUM_CLASSES} classes",
                  ["statistic", "Python loop ms", "vectorised ms", "speed-up", "share of the forward pass"])
    for label, key in (("top-1 / top-5 / loss", "summary"), ("per-class accuracy", "per_class"),
                       ("top-10 confusions", "confusions")):
        loop = f"{ms[key + '_loop']:.0f}" if key + "_loop" in ms else "–"
        speed = ratio(rates[key].best, rates[key + "_loop"].best) if key + "_loop" in rates else "–"
        table.rows.append([label, loop, f"{ms[key]:.1f}", speed, f"{ms[key] / 1000 / forward_s:.3%}"])
    table.notes.append("Share of the forward pass: the statistic's time over the time the cheapest model "
                       "(`shallow`, 128 px, batches of 64) needs to classify the same number of images.")
    return Section("Evaluation statistics", [table])
