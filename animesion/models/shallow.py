"""The ``shallow`` baseline: two conv blocks and an MLP, at any image size."""

from __future__ import annotations

from torch import Tensor, nn

from .output import ModelOutput, model_output, tag_head_of, tags_of


class ShallowNet(nn.Module):
    """conv5×5-BN-ReLU-maxpool ×2, then FC 512, ReLU, dropout 0.2, FC to classes.

    An adaptive pool before the MLP fixes the feature map at 5×5, so any ``image_size`` works. The
    embedding is the 512-wide hidden layer that the last FC reads.
    """

    def __init__(self, *, num_classes: int, width: int = 16, num_tags: int = 0) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 5), nn.BatchNorm2d(width), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 5), nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(5),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(2 * width * 25, 512), nn.ReLU(inplace=True), nn.Dropout(0.2),
            nn.Linear(512, num_classes),
        )
        self.tag_head = tag_head_of(512, num_tags)

    def forward(self, images: Tensor) -> ModelOutput:
        """images: [B, 3, H, W] → logits [B, num_classes], embedding [B, 512] (and tag_logits [B, tags])."""
        hidden = self.classifier[:-1](self.features(images))  # [B, 512]
        return model_output(self.classifier[-1](hidden), hidden, tag_logits=tags_of(self.tag_head, hidden))
