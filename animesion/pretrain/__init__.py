"""Self-supervised pretraining on pictures without labels (:mod:`.simclr`), for 03 to start from."""

from .simclr import PretrainResult, pretrain

__all__ = ["PretrainResult", "pretrain"]
