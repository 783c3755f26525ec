"""``run_inference(config)``: everything ``05_inference`` does, in one call (also ``python -m animesion.inference``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from ..config.inference import MODES, SAMPLE_IMAGES, InferenceConfig
from ..errors import ConfigError
from ..export import OnnxParity, export_and_check
from ..models.checkpoint import Checkpoint, load_checkpoint
from ..paths import resolve_path
from ..plots.images import prediction_gallery
from ..plots.save import save_figure
from ..prediction.fast import make_fast
from ..prediction.files import InferenceResult, list_files, predict_files, recognise_open_set
from ..prediction.open_set import OpenSet, Prototypes
from ..prediction.predictor import Predictor
from ..runs import find_checkpoint
from .annotate import write_results
from .gallery import enrol, load_gallery, require_open_set, save_gallery
from .samples import prepare_test_path
from .tags_csv import read_image_list, write_tags_csv

log = logging.getLogger(__name__)
GALLERY_FILE = "gallery.safetensors"  # the enrolled characters, next to the results, for gallery_file


@dataclass
class InferenceRun:
    """What one 05 run produced: the checkpoint and its predictor, the folder read, the results, where they
    were saved (None without ``save_results``) and the ONNX check (None without ``export_onnx``).
    ``gallery``: the enrolled characters (None without ``gallery_path``/``gallery_file``), ``notes``: what
    the run says once (enrolment problems, a checkpoint without calibration)."""

    checkpoint: Checkpoint
    predictor: Predictor
    folder: Path
    result: InferenceResult
    out_dir: Path | None = None
    parity: OnnxParity | None = None
    gallery: Prototypes | None = None
    notes: list[str] = field(default_factory=list)


def gallery_figure(result: InferenceResult) -> Figure:
    """The kept pictures with their top-k characters and confidences (and tags when predicted)."""
    files = list(result.images)
    names, probs = result.top_lists(files)
    return prediction_gallery(list(result.images.values()), names, probs, result.captions(files))


def run_inference(config: InferenceConfig, progress: bool = True) -> InferenceRun:
    """Classify (and tag) the pictures of ``config.test_path`` with the checkpoint, as ``config.mode`` says.

    With a calibrated checkpoint a picture whose best score is below the threshold is called ``unknown``;
    ``gallery_path`` enrols new characters first (``gallery_file`` reuses an enrolment). Writes
    ``<results_dir>/inference/``: ``predictions.csv``, ``failures.csv``, ``gallery.png`` and annotated
    copies (with ``save_results``), ``gallery.safetensors`` (``gallery_path``), ``<name>_tags.csv``
    (``gen_tags``) and ``model.onnx`` (``export_onnx``).
    """
    ckpt = load_checkpoint(find_checkpoint(config.checkpoint_path, config.results_dir))
    plain = Predictor.from_checkpoint(ckpt)
    predictor = make_fast(plain, config.fast_path)
    folder = prepare_test_path(config.test_path, SAMPLE_IMAGES, ckpt.dataset_path)
    mode = MODES.get(config.mode)
    out_dir = resolve_path(config.results_dir) / "inference"
    listed = read_image_list(resolve_path(config.test_csv)) if mode.tags_csv and config.test_csv else None
    files = [folder / d for d in listed["dir"]] if listed is not None else list_files(folder)
    run = InferenceRun(ckpt, predictor, folder, InferenceResult(pd.DataFrame(), pd.DataFrame()))
    open_set = _open_set(config, plain, predictor, run, out_dir, progress)
    result = predict_files(predictor, files, config.batch_size, config.top_k, config.max_display, progress,
                           tags=mode.tags)
    if open_set is not None and len(result.table):
        recognise_open_set(result, open_set, run.gallery, config.unknown_threshold)
    run.result = result
    if mode.tags_csv:
        name = Path(config.test_csv).stem if listed is not None else folder.name
        result.tags_csv = write_tags_csv(result, folder, listed, out_dir / f"{name}_tags.csv")
    if config.save_results:
        run.out_dir = write_results(result, out_dir, config.top_k)
        fig = gallery_figure(result)
        save_figure(fig, out_dir, "gallery.png")
        plt.close(fig)
    if config.export_onnx:
        run.parity = export_and_check(plain, folder, out_dir / "model.onnx", config.top_k)
    return run


def _open_set(config: InferenceConfig, plain: Predictor, predictor: Predictor, run: InferenceRun, out_dir: Path,
              progress: bool) -> OpenSet | None:
    """The calibration to name new characters and say "unknown" with, the gallery enrolled or loaded into
    ``run``, or None (and a note) when the checkpoint or the fast path cannot do it."""
    wants_gallery = bool(config.gallery_path or config.gallery_file)
    if plain.open_set is None:
        if wants_gallery:
            require_open_set(plain, "gallery_path" if config.gallery_path else "gallery_file")
        run.notes.append("This checkpoint was written without an open-set calibration, so no picture is called "
                         "'unknown'; train it again with this version to have one.")
        log.warning(run.notes[-1])
        return None
    if config.fast_path == "onnx":
        run.notes.append("fast_path='onnx' returns class scores only, without embeddings: no 'unknown' and no "
                         "enrolment on this path (use fast_path='none' or 'int8').")
        log.warning(run.notes[-1])
        if wants_gallery:
            raise ConfigError(f"gallery_path and gallery_file need embeddings; {run.notes[-1]}")
        return None
    if config.gallery_path:
        enrolment = enrol(predictor, config.gallery_path, config.batch_size, progress)
        run.gallery, run.notes = enrolment.gallery, run.notes + enrolment.problems
        save_gallery(enrolment.gallery, out_dir / GALLERY_FILE, predictor.open_set)
    elif config.gallery_file:
        run.gallery = load_gallery(config.gallery_file, predictor.open_set)
    return predictor.open_set


__all__ = ["GALLERY_FILE", "InferenceRun", "gallery_figure", "run_inference"]
