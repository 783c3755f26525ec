"""Parameters of ``05_inference``: classify (and tag) every image in a folder, or tag a list of images."""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Registry
from ..strict import Strict, param
from .tag import check_rule

SAMPLE_IMAGES = "data/sample_images"


def fast_path_names() -> list[str]:
    """The CPU fast paths of :mod:`animesion.prediction.fast` (imported only to check another value than 'none')."""
    from ..prediction.fast import fast_path_names as names

    return names()


@dataclass(frozen=True)
class Mode:
    """What one ``mode`` predicts: the top-k characters, and with ``tags`` each picture's tag set; with
    ``tags_csv`` it also writes the tags of the listed pictures as a dataset's ``*_tags.csv``; with ``captions``
    a caption file beside every picture."""

    description: str
    tags: bool = False
    tags_csv: bool = False
    captions: bool = False


MODES: Registry[Mode] = Registry("mode")
MODES.register("recognition_vision")(Mode("the top-k characters of every picture"))
MODES.register("recognition_tagging")(Mode("the top-k characters and the predicted tags", tags=True))
MODES.register("gen_tags")(Mode("a *_tags.csv of the pictures in test_csv (or test_path)", tags=True, tags_csv=True))
MODES.register("captions")(Mode("a caption file beside every picture of test_path (a tag head's tags and the "
                                "character), as python -m animesion.tag writes it", tags=True, captions=True))


@dataclass
class InferenceConfig(Strict):
    """Top-5 characters (and tags) for each image in ``test_path``; the default folder is generated when missing.

    ``mode``: ``recognition_vision`` (characters), ``recognition_tagging`` (characters and tags) or
    ``gen_tags`` (a ``*_tags.csv`` of the images in ``test_csv``, or in ``test_path``) or ``captions`` (a
    caption file beside every picture, existing ones kept). Tags need a
    checkpoint trained with ``tag_head`` (any model; ``tag_threshold`` chooses them) or a vision+tags model
    trained with a ``mask_schedule``.
    """

    checkpoint_path: str = param("", "checkpoint to use; empty takes the best checkpoint of the newest run")
    test_path: str = param(SAMPLE_IMAGES, "folder of images to classify (the default is generated when missing)")
    test_csv: str = param("", "gen_tags: CSV of images to tag (class_id,dir rows under test_path); "
                              "empty: all of test_path")
    mode: str = param("recognition_vision", "what to predict: characters, characters and tags, or a tags CSV",
                      MODES.names())
    batch_size: int = param(32, "images per forward pass")
    top_k: int = param(5, "how many characters to list per image")
    save_results: bool = param(True, "save predictions.csv, failures.csv, the gallery and annotated images")
    results_dir: str = param("outputs", "results go to <results_dir>/inference/")
    max_display: int = param(12, "how many classified pictures the notebook shows")
    export_onnx: bool = param(False, "also export the model to ONNX and check ONNX Runtime gives the same top_k")
    fast_path: str = param("none", "CPU speed-up: int8 Linear layers or ONNX Runtime (none keeps fp32 PyTorch)",
                           fast_path_names)
    gallery_path: str = param("", "folder with one subfolder of pictures per new character to enrol (no training)")
    gallery_file: str = param("", "a gallery saved by an earlier run (<results_dir>/inference/gallery.safetensors)")
    unknown_threshold: float | None = param(None, "answer 'unknown' below this score; None: the calibrated "
                                                  "thresholds; 0: never")
    tag_threshold: str | float = param("calibrated", "tag head: a number, calibrated (per tag, fitted on val) or "
                                                     "mcut")

    def validate(self) -> None:
        for key in ("batch_size", "top_k"):
            if getattr(self, key) <= 0:
                self.fail(f"{key} must be positive, got {getattr(self, key)}.")
        if self.max_display < 0:
            self.fail(f"max_display must not be negative, got {self.max_display}.")
        if self.unknown_threshold is not None and not -1 <= self.unknown_threshold <= 1:
            self.fail(f"unknown_threshold is a cosine similarity in [-1, 1] (0 turns 'unknown' off), got "
                      f"{self.unknown_threshold}.")
        problem = check_rule(self.tag_threshold)
        if problem:
            self.fail(f"tag_threshold {problem}.")
        if self.gallery_path and self.gallery_file:
            self.fail("gallery_path enrols characters and saves a gallery, gallery_file reuses one; set only one.")
