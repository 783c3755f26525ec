"""``ModelSpec``: a model's own arguments, the one input of ``create_model`` and what a checkpoint rebuilds from.

It holds what decides the weights' shapes and the forward pass (architecture, classes, input size, IFA
head, vision+tags sizes, the multi-label tag head, drop-path) and where the initial weights came from;
nothing about how the model is trained. So a checkpoint outlives changes to the training options, as
nanoGPT's ``model_args`` do.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..strict import Strict, param
from .backbones import AUTO, BACKBONES
from .catalog import ARCHITECTURES, architecture_problem


@dataclass
class ModelSpec(Strict):
    """Everything ``create_model`` needs; the names are the training flags of the same meaning."""

    model_name: str = param("shallow", "model architecture", ARCHITECTURES.names)
    num_classes: int = param(2, "number of classes")
    image_size: int = param(64, "square input resolution in pixels")
    interm_features_fc: bool = param(False, "IFA head: classify from every layer's class token (ViTs)")
    multimodal: bool = param(False, "vision+tags model: also reads a tag sequence (ViTs)")
    vocab_size: int | None = param(None, "multimodal: number of tag token ids")
    max_text_seq_len: int = param(16, "multimodal: tag sequence length")
    masked_tag_head: bool = param(False, "multimodal: a masked-tag head fills masked tag tokens (trained with a "
                                  "mask_schedule)")
    num_tags: int = param(0, "tags of the multi-label tag head, which reads the embedding (0: no tag head)")
    drop_path: float = param(0.0, "stochastic depth rate of the ViT blocks (training only)")
    pretrained: bool = param(False, "start from ImageNet weights (when building for training)")
    pretrained_path: str = param("", "local file of the pretrained weights")
    backbone: str = param("", "a CNN's self-supervised start (when building for training): a backbone of the "
                          "package (BACKBONES), a file of python -m animesion.pretrain, or '' random weights")

    def validate(self) -> None:
        if self.num_classes < 1 or self.image_size < 1:
            self.fail(f"num_classes and image_size must be positive, got {self.num_classes} and {self.image_size}.")
        problem = architecture_problem(self.model_name, image_size=self.image_size,
                                       interm_features_fc=self.interm_features_fc, multimodal=self.multimodal,
                                       pretrained=self.pretrained, drop_path=self.drop_path)
        if problem:
            self.fail(problem)
        if self.backbone == AUTO:
            self.fail("backbone='auto' is a run's choice (TrainConfig.model_spec resolves it); a ModelSpec names "
                      "the backbone it starts from.")
        if self.backbone in BACKBONES and BACKBONES.get(self.backbone).model_name != self.model_name:
            self.fail(f"backbone='{self.backbone}' is the package's start for "
                      f"{BACKBONES.get(self.backbone).model_name}, not for model_name='{self.model_name}'.")
        if self.backbone and (self.pretrained or ARCHITECTURES.get(self.model_name).family != "torchvision"):
            self.fail(f"backbone='{self.backbone}' starts a torchvision CNN without ImageNet weights; "
                      f"model_name='{self.model_name}'{' with pretrained=True' if self.pretrained else ''} cannot.")
        if self.multimodal and not self.vocab_size:
            self.fail("multimodal=True needs vocab_size, the tag tokenizer's number of ids.")
        if self.masked_tag_head and not self.multimodal:
            self.fail("masked_tag_head=True fills tag tokens, which only multimodal=True models read.")
        if self.num_tags < 0:
            self.fail(f"num_tags must be 0 (no tag head) or positive, got {self.num_tags}.")

    @property
    def is_vit(self) -> bool:
        return ARCHITECTURES.get(self.model_name).is_vit

    @property
    def from_scratch(self) -> bool:
        """Whether the weights started random: neither ImageNet weights nor a backbone."""
        return not self.pretrained and not self.backbone

    def without_start(self) -> ModelSpec:
        """The spec that builds the network with random weights: no ImageNet weights, no backbone file (to
        receive a checkpoint's weights, or as an untrained baseline)."""
        return self.replace(pretrained=False, backbone="")


__all__ = ["ModelSpec"]
