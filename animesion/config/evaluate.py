"""Parameters of ``04_evaluate``: the original ``evaluate.py`` flags, needing only a checkpoint."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.layouts import LAYOUTS, SPLITS
from ..strict import Strict, param


@dataclass
class EvaluateConfig(Strict):
    """Evaluate a checkpoint on a dataset split; dataset_name/dataset_path default to the checkpoint's."""

    checkpoint_path: str = param("", "checkpoint to evaluate; empty takes the best checkpoint of the newest run")
    dataset_name: str | None = param(None, "dataset to evaluate on; None uses the checkpoint's", LAYOUTS.names)
    dataset_path: str | None = param(None, "dataset root; None uses the checkpoint's")
    split: str = param("test", "which split to evaluate", SPLITS)
    batch_size: int = param(64, "evaluation batch size")
    no_cpu_workers: int = param(-1, "data-loading worker processes (0: the main process; -1: chosen for the cores)")
    results_dir: str = param("outputs", "where run folders are; figures go to <run>/evaluation_<split>/")
    vis_arch: bool = param(False, "print a model summary with layers and parameter counts")
    eval_imagebyimage: bool = param(True, "show a gallery of misclassified images with their top-5")
    save_results: bool = param(True, "save the CSVs and figures")
    max_gallery: int = param(12, "how many misclassified images the gallery shows")
    retrieval: bool = param(True, "recall@1/@5 of the split's embeddings among the train split's (one more pass)")
    unknown_path: str = param("", "folder of pictures of other characters: how well they are told from known ones")
    export_dir: str = param("", "also write the checkpoint as a timm / Hugging Face folder with a model card here")

    def validate(self) -> None:
        if self.no_cpu_workers < -1:
            self.fail(f"no_cpu_workers must be -1 (automatic) or more, got {self.no_cpu_workers}.")
        if self.batch_size <= 0 or self.max_gallery < 0:
            self.fail(f"batch_size must be positive and max_gallery not negative, got {self.batch_size} and "
                      f"{self.max_gallery}.")
