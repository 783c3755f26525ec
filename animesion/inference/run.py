"""``run_inference(config)``: everything ``05_inference`` does, in one call (also ``python -m animesion.inference``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..config.inference import MODES, SAMPLE_IMAGES, InferenceConfig
from ..export import OnnxParity, export_and_check
from ..models.checkpoint import Checkpoint, load_checkpoint
from ..paths import resolve_path
from ..plots.images import prediction_gallery
from ..plots.save import save_figure
from ..prediction.fast import make_fast
from ..prediction.files import InferenceResult, list_files, predict_files
from ..prediction.predictor import Predictor
from ..runs import find_checkpoint
from .annotate import write_results
from .samples import prepare_test_path
from .tags_csv import read_image_list, write_tags_csv


@dataclass
class InferenceRun:
    """What one 05 run produced: the checkpoint and its predictor, the folder read, the results, where they
    were saved (None without ``save_results``) and the ONNX check (None without ``export_onnx``)."""

    checkpoint: Checkpoint
    predictor: Predictor
    folder: Path
    result: InferenceResult
    out_dir: Path | None = None
    parity: OnnxParity | None = None


def gallery_figure(result: InferenceResult) -> Figure:
    """The kept pictures with their top-k characters and confidences (and tags when predicted)."""
    files = list(result.images)
    names, probs = result.top_lists(files)
    return prediction_gallery(list(result.images.values()), names, probs, result.captions(files))


def run_inference(config: InferenceConfig, progress: bool = True) -> InferenceRun:
    """Classify (and tag) the pictures of ``config.test_path`` with the checkpoint, as ``config.mode`` says.

    Writes ``<results_dir>/inference/``: ``predictions.csv``, ``failures.csv``, ``gallery.png`` and
    annotated copies (with ``save_results``), ``<name>_tags.csv`` (``gen_tags``) and ``model.onnx``
    (``export_onnx``).
    """
    ckpt = load_checkpoint(find_checkpoint(config.checkpoint_path, config.results_dir))
    plain = Predictor.from_checkpoint(ckpt)
    predictor = make_fast(plain, config.fast_path)
    folder = prepare_test_path(config.test_path, SAMPLE_IMAGES, ckpt.dataset_path)
    mode = MODES.get(config.mode)
    out_dir = resolve_path(config.results_dir) / "inference"
    listed = read_image_list(resolve_path(config.test_csv)) if mode.tags_csv and config.test_csv else None
    files = [folder / d for d in listed["dir"]] if listed is not None else list_files(folder)
    result = predict_files(predictor, files, config.batch_size, config.top_k, config.max_display, progress,
                           tags=mode.tags)
    if mode.tags_csv:
        name = Path(config.test_csv).stem if listed is not None else folder.name
        result.tags_csv = write_tags_csv(result, folder, listed, out_dir / f"{name}_tags.csv")
    run = InferenceRun(ckpt, predictor, folder, result)
    if config.save_results:
        run.out_dir = write_results(result, out_dir, config.top_k)
        fig = gallery_figure(result)
        save_figure(fig, out_dir, "gallery.png")
        plt.close(fig)
    if config.export_onnx:
        run.parity = export_and_check(plain, folder, out_dir / "model.onnx", config.top_k)
    return run


__all__ = ["InferenceRun", "gallery_figure", "run_inference"]
