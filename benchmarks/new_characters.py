"""Characters a model never trained on, over rotating folds, beside three floors.

For every fold the characters of the folder tree are shuffled (a fixed seed per fold): the first half is
made into a dataset by ``02_make_dataset`` and trained on with ``03_train``'s defaults at 64 px; of the
other half, the first half is enrolled from ``SHOTS`` pictures each and the rest are never seen.

* **Ceiling**: all the characters left out of training, each enrolled from ``SHOTS`` pictures and named
  among themselves (nearest prototype, no "unknown"), as 05 tells enrolled characters apart (in the space of the
  embedding joined to the colour histogram when the calibration weighs colour), and with the embedding alone. The
  same is measured with the floors: the same network untrained, the raw 64-px pixels, and an HSV colour
  histogram of the whole picture and of its centre. A learned embedding that does not beat the colour
  histogram has not learned identity.
* **Open set**, as a user meets it (the checkpoint's calibration and the package's ``recognise``): the
  trained characters' test pictures named right with and without the gallery, the enrolled named right,
  the never-seen called unknown, the trained and enrolled called unknown.
* **Cross-source**: the same, with the enrolled and tested pictures of the left-out characters (and the
  trained characters' test pictures) re-framed as another source would frame them: zoomed out onto a blurred
  background, shrunk and upscaled again, recompressed as JPEG and shifted a little in tone
  (:func:`another_source`). The network trains on the untouched pictures.
"""

from __future__ import annotations

import io
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter
from torch import Tensor

from animesion.data.images import is_image_file
from animesion.models.checkpoint import load_checkpoint
from animesion.models.factory import create_model
from animesion.prediction.colour import ColourFeature
from animesion.prediction.confidence import expected_calibration_error, reliability
from animesion.prediction.open_set import UNKNOWN, OpenSet
from animesion.prediction.predictor import Predictor
from animesion.prediction.recognise import Answers, recognise

SHOTS = 5  # pictures enrolled per character
QUERIES = 40  # pictures named per left-out character (the rest of its pictures are not used)
# The ceiling is the trained network as 05 tells enrolled characters apart (its embedding joined to the colour
# histogram when its calibration weighs colour); the embedding alone beside it; then the floors. The floors' colour
# histograms are the whole picture and its centre (the package's ColourFeature), the better of which is the
# floor to beat.
CEILING = "trained network"
EMBEDDINGS = (CEILING, "trained network, embedding alone", "same network untrained", "raw pixels",
              "colour histogram", "colour histogram, centre")
FLOORS = EMBEDDINGS[2:]
# A run that starts from a backbone (03's backbone) also shows that start's embedding before any training on
# labels: what fine-tuning on the trained characters adds to it, or takes away (not a floor).
START = "its backbone before training"


@dataclass(frozen=True)
class Roles:
    """Which characters (indices into the sorted folders) play which role in one fold."""

    trained: list[int]
    enrolled: list[int]
    unseen: list[int]

    @property
    def left_out(self) -> list[int]:
        return self.enrolled + self.unseen


def fold_roles(count: int, fold: int) -> Roles:
    """Fold ``fold``'s roles among ``count`` characters: half trained, a quarter enrolled, a quarter unseen."""
    order = np.random.RandomState(1000 + fold).permutation(count).tolist()
    half, three_quarters = count // 2, count // 2 + (count - count // 2) // 2
    return Roles(sorted(order[:half]), sorted(order[half:three_quarters]), sorted(order[three_quarters:]))


def gallery_and_queries(files: list[Path], fold: int) -> tuple[list[Path], list[Path]]:
    """A left-out character's ``SHOTS`` enrolment pictures and up to ``QUERIES`` others, drawn by the fold."""
    order = np.random.RandomState(fold).permutation(len(files))
    return [files[i] for i in order[:SHOTS]], [files[i] for i in order[SHOTS:SHOTS + QUERIES]]


def another_source(image: Image.Image, seed: int, background: Image.Image) -> Image.Image:
    """``image`` as a loosely framed, smaller, recompressed picture of another source (deterministic)."""
    rs = np.random.RandomState(seed)
    side = image.width
    canvas = background.resize((side, side)).filter(ImageFilter.GaussianBlur(side / 40))
    inner = int(side * rs.uniform(0.7, 0.9))  # the face fills less of the frame
    corner = rs.randint(0, side - inner + 1, size=2)
    canvas.paste(image.resize((inner, inner), Image.BILINEAR), tuple(int(c) for c in corner))
    small = int(side * rs.uniform(0.5, 0.75))  # a smaller original, upscaled again
    canvas = canvas.resize((small, small), Image.BICUBIC).resize((side, side), Image.BICUBIC)
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=int(rs.randint(50, 86)))
    pixels = np.asarray(Image.open(buffer).convert("RGB"), dtype=np.float32) / 255
    pixels = pixels ** rs.uniform(0.85, 1.15)  # another monitor, another scan: a slight tone curve
    return Image.fromarray((pixels.clip(0, 1) * 255).round().astype(np.uint8))


def other_source(images: list[Image.Image], seed: int, backgrounds: list[Image.Image]) -> list[Image.Image]:
    """:func:`another_source` of every picture, picture ``k`` with seed ``seed + k`` and background ``k``."""
    return [another_source(im, seed + k, backgrounds[k % len(backgrounds)]) for k, im in enumerate(images)]


def colour_histogram(images: list[Image.Image], bins: tuple[int, int, int] = (8, 4, 4)) -> Tensor:
    """HSV histograms [N, 8·4·4] of 64-px copies, square-rooted so that cosine compares them (Hellinger)."""
    hsv = np.stack([np.asarray(im.resize((64, 64), Image.BILINEAR).convert("HSV")) for im in images])
    idx = ((hsv[..., 0].astype(int) * bins[0] // 256) * bins[1] + hsv[..., 1].astype(int) * bins[1] // 256) \
        * bins[2] + hsv[..., 2].astype(int) * bins[2] // 256  # [N, 64, 64]
    counts = np.stack([np.bincount(row.ravel(), minlength=int(np.prod(bins))) for row in idx])
    return torch.from_numpy(np.sqrt(counts / counts.sum(1, keepdims=True))).float()


def nearest_prototype(gallery: Tensor, gallery_labels: Tensor, queries: Tensor, query_labels: Tensor) -> float:
    """Share of ``queries`` [Q, D] whose nearest class mean of the unit ``gallery`` [G, D] is their own class."""
    gallery, queries = F.normalize(gallery.float(), dim=-1), F.normalize(queries.float(), dim=-1)
    classes = int(gallery_labels.max()) + 1
    means = F.normalize(torch.zeros(classes, gallery.shape[1]).index_add_(0, gallery_labels, gallery), dim=-1)
    return float(((queries @ means.T).argmax(-1) == query_labels).float().mean())


def embeddings_by(predictor: Predictor, untrained: Predictor, images: list[Image.Image],
                  started: Predictor | None = None) -> dict[str, Tensor]:
    """Every embedding of ``EMBEDDINGS`` (and :data:`START` with a ``started`` predictor) for decoded pictures,
    in batches of 128."""
    names = (*EMBEDDINGS[:2], START, *EMBEDDINGS[2:]) if started else EMBEDDINGS
    out: dict[str, list[Tensor]] = {name: [] for name in names}
    for start in range(0, len(images), 128):
        chunk = images[start:start + 128]
        batch = predictor.to_batch(chunk)
        trained = predictor.embeddings(batch)  # [B, D (+ H)]
        open_set = predictor.open_set
        alone = embedding_alone(open_set, trained) if open_set else trained
        out[CEILING].append(open_set.enrolment_space(trained) if open_set else alone)
        out["trained network, embedding alone"].append(alone)
        if started:
            out[START].append(started.embeddings(batch))
        out["same network untrained"].append(untrained.embeddings(batch))
        out["raw pixels"].append(batch.flatten(1).cpu())
        out["colour histogram"].append(colour_histogram(chunk))
        out["colour histogram, centre"].append(ColourFeature(1.0)(batch).cpu())
    return {name: torch.cat(parts) for name, parts in out.items()}


def embedding_alone(open_set: OpenSet, features: Tensor) -> Tensor:
    """Identity features [N, D (+ H)] → the calibration's projected space [N, K] as the embedding alone places
    them: in a joint space, with the colour part at the training pictures' mean, so that colour adds nothing."""
    space = open_set.space(features)  # [N, D + H] in a joint space, else [N, D]
    if open_set.joint:
        learned = len(open_set.center) - open_set.colour.dims
        space[:, learned:] = open_set.center[learned:]
    return open_set.whitened(space)


def untrained_like(predictor: Predictor, seed: int) -> Predictor:
    """The predictor's architecture with fresh random weights and no calibration: its embedding alone (the
    first floor)."""
    torch.manual_seed(seed)
    untrained = predictor.with_model(create_model(predictor.spec.without_start()).eval())
    untrained.open_set = None
    return untrained


def started_like(predictor: Predictor) -> Predictor | None:
    """The predictor's network as its backbone started it, before training on labels (the classifier is new and
    unused; no calibration); None for a run without a backbone."""
    if not predictor.spec.backbone:
        return None
    started = predictor.with_model(create_model(predictor.spec).eval())
    started.open_set = None
    return started


def ceilings(predictor: Predictor, untrained: Predictor, gallery: list[Image.Image], gallery_labels: Tensor,
             queries: list[Image.Image], query_labels: Tensor, started: Predictor | None = None) -> dict[str, float]:
    """Closed-set naming of the left-out characters by nearest prototype, for every embedding."""
    g = embeddings_by(predictor, untrained, gallery, started)
    q = embeddings_by(predictor, untrained, queries, started)
    return {name: nearest_prototype(g[name], gallery_labels, q[name], query_labels) for name in g}


def open_set_figures(predictor: Predictor, trained: tuple[list[Image.Image], list[str]],
                     enrolled: tuple[list[Image.Image], list[str], list[Image.Image], list[str]],
                     unseen: list[Image.Image]) -> dict[str, float]:
    """The four open-set figures and the trained characters without a gallery, through ``recognise``."""
    shots, shot_names, tests, test_names = enrolled
    embeddings = torch.cat([predictor.embeddings(shots[i:i + 128]) for i in range(0, len(shots), 128)])
    order = sorted(set(shot_names))
    labels = torch.tensor([order.index(n) for n in shot_names])
    gallery = predictor.open_set.enrolled(embeddings, labels, order)

    def answers(images: list[Image.Image], with_gallery: bool, threshold: float | None = None) -> list[Answers]:
        return [recognise(predictor, images[i:i + 128], gallery if with_gallery else None, threshold)
                for i in range(0, len(images), 128)]

    def named(found: list[Answers]) -> list[str]:
        return [a for part in found for a in part.answers]

    plain, with_gallery = named(answers(trained[0], False)), named(answers(trained[0], True))
    on_enrolled, on_unseen = named(answers(tests, True)), named(answers(unseen, True))
    known = with_gallery + on_enrolled
    # The confidence of answers among the trained characters (no unknown), on test pictures training never saw
    closed = answers(trained[0], False, threshold=0)
    table = reliability(torch.cat([a.confidence for a in closed]),
                        torch.tensor([a == t for a, t in zip(named(closed), trained[1])]))
    used = table[table["answers"] >= 20]
    return {"trained named right, no gallery": _share(plain, trained[1]),
            "trained named right, with the gallery": _share(with_gallery, trained[1]),
            "enrolled named right": _share(on_enrolled, test_names),
            "never seen called unknown": _share(on_unseen, [UNKNOWN] * len(on_unseen)),
            "trained and enrolled called unknown": _share(known, [UNKNOWN] * len(known)),
            "confidence: calibration error (ECE)": expected_calibration_error(table),
            "confidence: largest gap of a bin with 20+ answers": float(
                (used["mean_confidence"] - used["share_right"]).abs().max()) if len(used) else float("nan")}


def fold_measures(predictor: Predictor, untrained: Predictor, names: dict[int, str], roles: Roles,
                  loaded: dict[int, tuple[list[Image.Image], list[Image.Image]]],
                  trained: tuple[list[Image.Image], list[str]], started: Predictor | None = None) -> dict[str, float]:
    """One fold's figures: the ceiling and floors over the left-out characters, then the open set.

    ``loaded``: each left-out character's enrolment and query pictures; ``trained``: the trained characters'
    test pictures and their names; ``started``: the network as its backbone started it (:func:`started_like`).
    """
    left = roles.left_out
    gallery = [im for i in left for im in loaded[i][0]]
    queries = [im for i in left for im in loaded[i][1]]
    gallery_labels = torch.tensor([k for k, i in enumerate(left) for _ in loaded[i][0]])
    query_labels = torch.tensor([k for k, i in enumerate(left) for _ in loaded[i][1]])
    found = {f"ceiling: {name}": value for name, value in
             ceilings(predictor, untrained, gallery, gallery_labels, queries, query_labels, started).items()}
    enrolled = ([im for i in roles.enrolled for im in loaded[i][0]],
                [names[i] for i in roles.enrolled for _ in loaded[i][0]],
                [im for i in roles.enrolled for im in loaded[i][1]],
                [names[i] for i in roles.enrolled for _ in loaded[i][1]])
    unseen = [im for i in roles.unseen for im in loaded[i][1]]
    return {**found, **open_set_figures(predictor, trained, enrolled, unseen)}


def _share(answers: list[str], truth: list[str]) -> float:
    return sum(a == t for a, t in zip(answers, truth)) / max(len(answers), 1)


def summary(values: list[float]) -> str:
    """Mean ± standard deviation over folds, in percent."""
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * statistics.mean(values):.1f} ± {100 * spread:.1f}"


def pictures(folder: Path) -> list[Path]:
    """The picture files of a character folder, sorted by name."""
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def link_tree(target: Path, folders: dict[str, list[Path]]) -> Path:
    """A folder tree of links (copies where links fail) to the given pictures, made afresh."""
    shutil.rmtree(target, ignore_errors=True)
    for name, files in folders.items():
        (target / name).mkdir(parents=True)
        for file in files:
            try:
                (target / name / file.name).symlink_to(file.resolve())
            except OSError:
                shutil.copyfile(file, target / name / file.name)
    return target


def load_predictor(checkpoint: Path) -> Predictor:
    return Predictor.from_checkpoint(load_checkpoint(checkpoint), device="cpu")


__all__ = ["EMBEDDINGS", "QUERIES", "SHOTS", "START", "Roles", "another_source", "ceilings", "colour_histogram",
           "embedding_alone", "fold_measures", "fold_roles", "gallery_and_queries", "link_tree", "load_predictor",
           "nearest_prototype", "open_set_figures", "other_source", "pictures", "started_like", "summary",
           "untrained_like"]
