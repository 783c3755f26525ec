"""Parameters of ``python -m animesion.pretrain``: self-supervised pretraining on pictures without labels."""

from __future__ import annotations

from dataclasses import dataclass

from ..models.catalog import torchvision_names
from ..registry import Registry
from ..strict import Strict, param

# The pretexts a backbone is learned by, as data (configs read it without torch); the code that trains each is
# registered under the same name in animesion.pretrain.pretexts.
PRETEXTS: Registry[str] = Registry("method")
PRETEXTS.register("simclr")("SimCLR: two views of a picture find each other among the batch's other views")
PRETEXTS.register("clusters")("pseudo-characters: name the picture's k-means group, drawn again every few epochs")


@dataclass
class PretrainConfig(Strict):
    """A pretext on a folder of unlabelled pictures; the backbone is written as a safetensors start for 03."""

    method: str = param("simclr", "the pretext (PRETEXTS): simclr, or clusters to continue a backbone",
                        PRETEXTS.names)
    images_path: str = param("", "folder of unlabelled pictures (searched at any depth)")
    output_path: str = param("", "the backbone's weights file to write ('' outputs/pretrained/faces_<method>"
                             ".safetensors)")
    model_name: str = param("resnet18", "the backbone (a torchvision CNN)", torchvision_names)
    backbone: str = param("", "continue from a backbone: one of the package's (BACKBONES) or a file of an earlier "
                          "pretraining; '' random weights")
    image_size: int = param(64, "square input resolution of the views, as 03 will train")
    batch_size: int = param(256, "pictures per step (each gives two views; the other 2·(B−1) views are negatives)")
    no_epochs: int = param(8, "passes over the pictures")
    learning_rate: float = param(2e-3, "AdamW's peak rate, after a linear warm-up of one tenth of an epoch")
    weight_decay: float = param(0.05, "AdamW's decoupled weight decay")
    temperature: float = param(0.2, "NT-Xent's softmax temperature")
    max_images: int = param(0, "use at most this many pictures (0: all)")
    num_workers: int = param(1, "loader processes that decode and augment the views")
    seed: int = param(0, "seed of the weights, the order and the views")
    clusters: int = param(1000, "clusters: how many pseudo-characters k-means draws (at most half the pictures)")
    recluster_every: int = param(3, "clusters: epochs between two drawings of the groups (0: drawn once)")

    @property
    def output_file(self) -> str:
        """The backbone's weights file: ``output_path``, or the method's file under ``outputs/pretrained/``."""
        return self.output_path or f"outputs/pretrained/faces_{self.method}.safetensors"

    def validate(self) -> None:
        if not self.images_path:
            self.fail("give a folder of pictures: python -m animesion.pretrain --images_path FOLDER")
        for key in ("image_size", "batch_size", "no_epochs", "clusters"):
            if getattr(self, key) < (2 if key == "batch_size" else 1):
                self.fail(f"{key} must be at least {2 if key == 'batch_size' else 1}, got {getattr(self, key)}.")
        if self.recluster_every < 0:
            self.fail(f"recluster_every must be ≥ 0 (0: the groups are drawn once), got {self.recluster_every}.")
        if self.temperature <= 0 or self.learning_rate <= 0:
            self.fail("temperature and learning_rate must be positive.")


__all__ = ["PRETEXTS", "PretrainConfig"]
