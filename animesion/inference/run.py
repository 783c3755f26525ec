"""``run_inference(config)``: everything ``05_inference`` does, in one call (also ``python -m animesion.inference``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..config.inference import MODES, SAMPLE_IMAGES, InferenceConfig
from ..config.tag import TagConfig
from ..data.images import picture_files
from ..errors import ConfigError
from ..export import OnnxParity, export_and_check
from ..models.checkpoint import Checkpoint, load_checkpoint
from ..paths import resolve_path, shown_path
from ..prediction.fast import make_fast
from ..prediction.files import (
    BEST_MATCH,
    CONFIDENCE,
    NOTES,
    SCORE,
    TAGS,
    InferenceResult,
    list_files,
    predict_files,
)
from ..prediction.open_set import Prototypes
from ..prediction.predictor import Predictor
from ..runs import find_checkpoint
from .annotate import write_results
from .captions import CaptionRun, require_tag_head, write_captions
from .gallery import enrol, load_gallery, require_open_set, save_gallery
from .samples import prepare_test_path
from .tags_csv import read_image_list, write_tags_csv

log = logging.getLogger(__name__)
GALLERY_FILE = "gallery.safetensors"  # the enrolled characters, next to the results, for gallery_file


@dataclass
class Gallery:
    """The enrolled characters of a run (None without ``gallery_path``/``gallery_file``, or when the checkpoint
    cannot enrol) and what the run says once about them (enrolment problems, a checkpoint without calibration)."""

    characters: Prototypes | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class InferenceRun:
    """What one 05 run produced: the checkpoint and its predictor, the folder read, the results, the enrolled
    ``gallery`` and the run's ``notes``, where the results were saved (None without ``save_results``), the
    ``gen_tags`` file (None in other modes), the ONNX check (None without ``export_onnx``) and the caption files
    written (``captions`` mode)."""

    checkpoint: Checkpoint
    predictor: Predictor
    folder: Path
    result: InferenceResult
    gallery: Prototypes | None = None
    notes: list[str] = field(default_factory=list)
    out_dir: Path | None = None
    tags_csv: Path | None = None
    parity: OnnxParity | None = None
    captions: CaptionRun | None = None

    def describe(self) -> str:
        """The checkpoint in one line, then one line per note (none when there are none)."""
        spec = self.checkpoint.spec
        head = (f"{spec.model_name} trained on {len(self.checkpoint.class_names)} characters at {spec.image_size} px, "
                f"from {self.checkpoint.path}")
        return "\n".join([head, *(f"note: {note}" for note in self.notes)])

    def shown_table(self) -> pd.DataFrame:
        """The predictions table as a notebook shows it (``predictions.csv`` keeps every column as it is):
        each file by its path inside the folder read, the answer and its confidence first, then the best
        match (its probability as ``best_match_prob``, never beside ``unknown``), the notes when there are
        any, the other candidates, then the tags as one line of text; numbers to 3 decimals."""
        table = self.result.table.copy()
        table["file"] = [shown_path(f, self.folder) for f in table["file"]]
        if BEST_MATCH in table:
            table = table.rename(columns={"top1_prob": "best_match_prob"})
        if NOTES in table and not table[NOTES].astype(bool).any():
            table = table.drop(columns=NOTES)
        first = [c for c in ("file", "top1", CONFIDENCE, BEST_MATCH, "best_match_prob", "top1_prob", SCORE, NOTES)
                 if c in table]
        last = [TAGS] if TAGS in table else []  # a line of text, last: a list cell would squeeze into a column
        if last:
            table[TAGS] = table[TAGS].map(", ".join)
        return table[first + [c for c in table.columns if c not in first + last] + last].round(3)


def run_inference(config: InferenceConfig, progress: bool = True) -> InferenceRun:
    """Classify (and tag) the pictures of ``config.test_path`` with the checkpoint, as ``config.mode`` says.

    With a calibrated checkpoint a picture whose best score is below its best match's threshold (the
    checkpoint's, or the gallery's for an enrolled character) is called ``unknown``;
    ``gallery_path`` enrols new characters first (``gallery_file`` reuses an enrolment). Writes
    ``<results_dir>/inference/``: ``predictions.csv``, ``failures.csv``, ``gallery.png`` and annotated
    copies (with ``save_results``), ``gallery.safetensors`` (``gallery_path``), ``<name>_tags.csv``
    (``gen_tags``) and ``model.onnx`` (``export_onnx``); in ``captions`` mode a caption file beside every
    picture of ``test_path`` (existing ones kept) and ``tag_scores.json``.
    """
    ckpt = load_checkpoint(find_checkpoint(config.checkpoint_path, config.results_dir))
    plain = Predictor.from_checkpoint(ckpt)
    predictor = make_fast(plain, config.fast_path)
    folder = prepare_test_path(config.test_path, SAMPLE_IMAGES, ckpt.dataset_path)
    mode = MODES.get(config.mode)
    out_dir = resolve_path(config.results_dir) / "inference"
    listed = read_image_list(resolve_path(config.test_csv)) if mode.tags_csv and config.test_csv else None
    if mode.captions:
        require_tag_head(predictor)
    files = [folder / d for d in listed["dir"]] if listed is not None else \
        picture_files(folder, recursive=True) if mode.captions else list_files(folder)
    gallery = enrolled_gallery(config, plain, predictor, out_dir, progress)
    result = predict_files(predictor, files, config.batch_size, config.top_k, gallery=gallery.characters,
                           threshold=config.unknown_threshold, tags=mode.tags, tag_rule=config.tag_threshold,
                           progress=progress)
    tags_csv = None
    if mode.tags_csv:
        name = Path(config.test_csv).stem if listed is not None else folder.name
        tags_csv = write_tags_csv(result, folder, listed, out_dir / f"{name}_tags.csv")
    captions = write_captions(result, predictor, folder, TagConfig(train_data_dir=str(folder),
                                                                   thresh=config.tag_threshold)) \
        if mode.captions else None
    saved = write_results(result, predictor, folder, out_dir, config.top_k, progress) if config.save_results else None
    parity = export_and_check(plain, folder, out_dir / "model.onnx", config.top_k) if config.export_onnx else None
    return InferenceRun(ckpt, predictor, folder, result, gallery.characters, gallery.notes, saved, tags_csv, parity,
                        captions)


def enrolled_gallery(config: InferenceConfig, plain: Predictor, predictor: Predictor, out_dir: Path,
                     progress: bool) -> Gallery:
    """The characters of ``gallery_path`` (enrolled and saved) or ``gallery_file``, with what to say about them;
    an empty gallery and a note when the checkpoint (or the fast path) cannot say "unknown"."""
    wants = "gallery_path" if config.gallery_path else "gallery_file" if config.gallery_file else ""
    if plain.open_set is None:
        if wants:
            require_open_set(plain, wants)
        note = ("This checkpoint was written without an open-set calibration, so no picture is called 'unknown'; "
                "train it again with this version to have one.")
        log.warning(note)
        return Gallery(notes=[note])
    if predictor.open_set is None:
        note = (f"fast_path='{config.fast_path}' gives no embeddings: no 'unknown' and no enrolment on this path "
                "(use fast_path='none').")
        if wants:
            raise ConfigError(f"{wants} needs embeddings; {note}")
        log.warning(note)
        return Gallery(notes=[note])
    if config.gallery_path:
        enrolment = enrol(predictor, config.gallery_path, config.batch_size, progress)
        save_gallery(enrolment.gallery, out_dir / GALLERY_FILE, predictor.open_set)
        return Gallery(enrolment.gallery, enrolment.problems)
    if config.gallery_file:
        return Gallery(load_gallery(config.gallery_file, predictor.open_set))
    return Gallery()


__all__ = ["GALLERY_FILE", "Gallery", "InferenceRun", "enrolled_gallery", "run_inference"]
