"""Folder inference: one image at a time (the original loop) against batched ``predict_folder`` and the
CPU fast paths, with the fast paths' top-1 agreement with fp32."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import torch

from animesion.models.checkpoint import load_checkpoint
from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.prediction.fast import FAST_PATHS, make_fast
from animesion.prediction.files import predict_folder
from animesion.prediction.predictor import Predictor

from .jpegs import JpegSet, work_dir
from .reference import classify_one_at_a_time, to_reference
from .report import Section, Table, Target, ratio
from .timing import Work, interleaved_rates

IMAGE_SIZE = 128
BATCH_SIZE = 32


def image_folder(images: JpegSet, name: str) -> tuple[Path, list[Path]]:
    """A folder of links to ``images`` (copies where links are not allowed), and its files in order."""
    folder = work_dir() / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files = []
    for i, source in enumerate(images.files):
        target = folder / f"{i:05d}{source.suffix}"
        try:
            target.symlink_to(source.resolve())
        except OSError:
            shutil.copyfile(source, target)
        files.append(target)
    return folder, files


def random_predictor(model_name: str, num_classes: int, device: torch.device) -> Predictor:
    """A predictor with freshly initialised weights (seed 0), for speed measurements."""
    torch.manual_seed(0)
    spec = ModelSpec(model_name=model_name, num_classes=num_classes, image_size=IMAGE_SIZE)
    return Predictor(create_model(spec), spec, [f"class_{i}" for i in range(num_classes)], device=device)


def top1(predictor: Predictor, folder: Path) -> list[str]:
    table = predict_folder(predictor, folder, batch_size=BATCH_SIZE, top_k=1, progress=False).table
    return table.sort_values("file")["top1"].tolist()


def measure(predictor: Predictor, folder: Path, files: list[Path], rounds: int, device: torch.device) -> dict:
    """Images/s of the naive loop, batched fp32 and each fast path; conversion times; top-1 agreement."""
    naive_model = to_reference(predictor.model).eval()
    fast, setup = {"batched": predictor}, {}
    for name in FAST_PATHS.names():
        start = time.perf_counter()
        fast[name] = make_fast(predictor, name)
        setup[name] = time.perf_counter() - start
    predicted: dict[str, list[str]] = {}  # top-1 class of every file, from each candidate's last pass

    def folder_pass(name: str) -> Work:
        def work() -> int:
            predicted[name] = top1(fast[name], folder)
            return len(predicted[name])

        return work

    candidates = {"naive": lambda: len(classify_one_at_a_time(naive_model, files, IMAGE_SIZE)),
                  **{name: folder_pass(name) for name in fast}}
    rates = interleaved_rates(candidates, rounds, device)
    reference = predicted["batched"]
    agreement = {name: sum(a == b for a, b in zip(predicted[name], reference)) / len(reference)
                 for name in FAST_PATHS.names()}
    return {"rates": rates, "setup": setup, "agreement": agreement}


def run(images: JpegSet, device: torch.device, models: list[str], count: int, rounds: int,
        checkpoint: str = "") -> Section:
    """The inference table and its targets (batched ≥ 5× the loop; a fast path ≥ 1.5× fp32 at ≥ 99% agreement)."""
    subset = images.head(count)
    folder, files = image_folder(subset, "infer")
    predictors = ([Predictor.from_checkpoint(load_checkpoint(checkpoint), device)] if checkpoint else
                  [random_predictor(m, images.num_classes, device) for m in models])
    paths = FAST_PATHS.names()
    table = Table(
        f"Classifying a folder of {len(files)} JPEGs at {IMAGE_SIZE} px ({images.source})",
        ["model", "one at a time img/s", "batched img/s", "batched vs loop",
         *[f"{p} img/s" for p in paths], *[f"{p} vs fp32 (agreement)" for p in paths]],
    )
    section = Section("Folder inference", [table])
    for predictor in predictors:
        m = measure(predictor, folder, files, rounds, device)
        naive, batched = m["rates"]["naive"].best, m["rates"]["batched"].best
        table.rows.append([
            predictor.spec.model_name, f"{naive:.1f}", f"{batched:.1f}", ratio(batched, naive),
            *[f"{m['rates'][p].best:.1f}" for p in paths],
            *[f"{ratio(m['rates'][p].best, batched)} ({m['agreement'][p]:.1%})" for p in paths],
        ])
        name = predictor.spec.model_name
        section.targets.append(Target(f"{name}: batched folder inference vs one at a time", ratio(batched, naive),
                                      "≥ 5×", batched >= 5 * naive))
        best = max(paths, key=lambda p: (m["agreement"][p] >= 0.99, m["rates"][p].best))
        speed = m["rates"][best].best
        section.targets.append(Target(
            f"{name}: CPU fast path ({best}) vs fp32, top-1 agreement", f"{ratio(speed, batched)}, "
            f"{m['agreement'][best]:.1%}", "≥ 1.5×, ≥ 99%", speed >= 1.5 * batched and m["agreement"][best] >= 0.99))
        table.notes.append(f"{name}: building the fast paths took "
                           + ", ".join(f"{p} {s:.1f} s" for p, s in m["setup"].items()) + ".")
    weights = f"checkpoint {checkpoint}" if checkpoint else "freshly initialised weights (seed 0)"
    table.notes += [
        f"Weights: {weights}. Untrained weights give nearly tied logits, so the agreement shown for them is a "
        "pessimistic bound; pass `--checkpoint` to measure a trained model.",
        "One at a time: full decode, explicit attention (ViTs), one forward pass per image (the original loop). "
        "Batched: `predict_folder` with batches of 32 (fp32; worker processes decode the next batches when there "
        "is more than one, CNNs run channels-last). Fast paths: `make_fast(predictor, path)` then `predict_folder`; "
        "agreement = share of images whose top-1 matches batched fp32.",
    ]
    return section
