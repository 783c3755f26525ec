"""Parameters of ``06_attention_viz``: where a trained ViT looks, layer by layer and head by head."""

from __future__ import annotations

from dataclasses import dataclass

from ..data.layouts import SPLITS
from ..strict import Strict, param

QUICKSTART_VIT = "parameters/quickstart_vit.yaml"


@dataclass
class AttentionConfig(Strict):
    """Attention maps of a ViT checkpoint on a few images from a folder or a dataset split."""

    checkpoint_path: str = param("", "ViT checkpoint; empty takes the best checkpoint of the newest ViT run")
    test_path: str = param("", "folder of images to look at; empty samples images from the checkpoint's dataset")
    split: str = param("test", "dataset split to sample from when test_path is empty", SPLITS)
    max_images: int = param(6, "at most this many images are explained (and saved)")
    seed: int = param(0, "seed of the image sample")
    layer: int = param(-1, "layer whose heads are drawn one by one; -1 is the last")
    head: int = param(0, "head whose full token-to-token attention is drawn")
    train_quickstart: bool = param(True, f"no ViT run in results_dir: train {QUICKSTART_VIT} first (about two minutes)")
    results_dir: str = param("outputs", "where run folders are; figures go to <results_dir>/attention/<run>/")
    save_results: bool = param(True, "save every figure and a CSV of the predictions")

    def validate(self) -> None:
        if self.max_images <= 0:
            self.fail(f"max_images must be positive, got {self.max_images}.")
        if self.head < 0:
            self.fail(f"head must not be negative, got {self.head}.")
