"""``Predictor``: the one path from pictures to predictions, shared by training's evaluation, 04, 05, the
widgets, the attention maps and the ONNX export.

It owns what must be the same everywhere a model is used: the eval transform and the reduced JPEG
decode size of the model's input size, the device, the autocast policy of the run that trained the
model (``mixed_precision``; fp32 for ``no``), the loader of labelled splits and the batched forward.
What a forward means for a picture (top-k, open set, tags) is :func:`animesion.prediction.recognise.recognise`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader
from torchvision import transforms as T
from tqdm.auto import tqdm

from ..data.images import load_rgb
from ..data.loaders import eval_loader
from ..data.records import Record
from ..data.tag_set import TagSet
from ..data.tag_tokens import IGNORE
from ..data.tokenization.base import TagTokenizer
from ..data.transforms import decode_size, eval_transform
from ..errors import AnimesionError
from ..models.checkpoint import Checkpoint
from ..models.output import ModelOutput
from ..models.spec import ModelSpec
from ..performance import autocast, pick_device, prepare_model
from ..utils.progress import progress_bar
from .colour import ColourFeature
from .open_set import OpenSet
from .predictions import Predictions
from .tag_thresholds import TagThresholds


class Predictor:
    """A model ready to predict, with its eval transform, decode size, device and autocast policy.

    ``Predictor.from_checkpoint(ckpt)`` is the usual way in; training builds one around the model it
    trains. CNNs are put in channels-last layout (in place; the predictions stay the same).
    """

    def __init__(self, model: nn.Module, spec: ModelSpec, class_names: Sequence[str], *,
                 device: torch.device | str | None = None, mixed_precision: str = "no",
                 tokenizer: TagTokenizer | None = None, channels_last: bool | None = None,
                 open_set: OpenSet | None = None, tag_set: TagSet | None = None,
                 tag_thresholds: TagThresholds | None = None) -> None:
        self.device = torch.device(device) if device is not None else pick_device()
        self.model = prepare_model(model.to(self.device).eval(), channels_last=channels_last)
        self.spec = spec
        self.class_names = list(class_names)
        self.mixed_precision = mixed_precision
        self.tokenizer = tokenizer
        self.open_set = open_set
        self.tag_set = tag_set  # the tag head's tags (None: no tag head)
        self.tag_thresholds = tag_thresholds  # None: not calibrated (the default threshold is used)
        self.transform: T.Compose = eval_transform(spec.image_size)
        self.decode_size = decode_size(spec.image_size)  # large JPEGs decode at reduced scale, as in training

    @classmethod
    def from_checkpoint(cls, ckpt: Checkpoint, device: torch.device | str | None = None) -> Predictor:
        """The predictor of a loaded checkpoint, computing as its run did (``mixed_precision``)."""
        open_set = (OpenSet.from_stored(ckpt.calibration["tensors"], ckpt.calibration["meta"], ckpt.class_names)
                    if ckpt.calibration else None)
        tagging = ckpt.tag_head or {}
        return cls(ckpt.model, ckpt.spec, ckpt.class_names, device=device, mixed_precision=ckpt.mixed_precision,
                   tokenizer=ckpt.tokenizer, open_set=open_set,
                   tag_set=TagSet.from_meta(tagging["tags"]) if "tags" in tagging else None,
                   tag_thresholds=TagThresholds.from_meta(tagging["thresholds"]) if "thresholds" in tagging else None)

    def with_model(self, model: nn.Module) -> Predictor:
        """The same predictor around another model computing the same function (a CPU fast path)."""
        other = copy.copy(self)
        other.model, other.device = model, torch.device("cpu")  # the fast paths run on the CPU, in fp32
        other.mixed_precision = "no"
        return other

    @property
    def open_set(self) -> OpenSet | None:
        """The checkpoint's open-set calibration (None: a checkpoint written without it, no "unknown")."""
        return self._open_set

    @open_set.setter
    def open_set(self, open_set: OpenSet | None) -> None:
        self._open_set = open_set
        # the colour histogram the identity features carry beside the embedding: the calibration's (None: none, or
        # no calibration); training sets the one it is about to calibrate with before measuring the pictures
        self.colour: ColourFeature | None = open_set.colour if open_set is not None else None

    @property
    def can_tag(self) -> bool:
        """True for models with a multi-label tag head, and for vision+tags models trained with a mask schedule."""
        return self.has_tag_head or (self.spec.masked_tag_head and self.tokenizer is not None)

    @property
    def has_tag_head(self) -> bool:
        """True when the model has a multi-label tag head (tags with scores and thresholds)."""
        return self.tag_set is not None and self.spec.num_tags > 0

    def loader(self, records: Sequence[Record], image_root: Path, batch_size: int, workers: int = 0,
               with_tags: bool = False) -> DataLoader:
        """The labelled pictures of ``records`` in order, read as this predictor reads pictures (its eval
        transform and decode size), for :meth:`predict_loader`. ``with_tags``: samples carry their tags, as
        tokens (the targets of a vision+tags model's tag predictions) and as the tag head's multi-hot targets."""
        return eval_loader(records, image_root, self.spec.image_size, batch_size, workers,
                           tokenizer=self.tokenizer if with_tags else None,
                           tag_set=self.tag_set if with_tags else None)

    def load(self, path: str | Path) -> Image.Image:
        """Decode a picture as the model's inputs are decoded (RGB, reduced-size JPEG decoding)."""
        return load_rgb(path, draft_size=self.decode_size)

    def to_batch(self, images: Sequence[Image.Image]) -> Tensor:
        """Pictures → the model's input batch [B, 3, S, S] on the predictor's device."""
        return torch.stack([self.transform(image) for image in images]).to(self.device)

    @torch.inference_mode()
    def forward(self, batch: Tensor, **inputs: Tensor) -> ModelOutput:
        """The model's output for an input batch [B, 3, S, S], under the run's autocast policy."""
        with autocast(self.device, self.mixed_precision):
            return self.model(batch.to(self.device, non_blocking=True), **inputs)

    def require_tags(self, tags: bool = True) -> None:
        """Stop with one sentence when ``tags`` are asked of a checkpoint that cannot predict them."""
        if tags and not self.can_tag:
            raise AnimesionError("Predicting tags needs a checkpoint trained with tag_head=True (any model), or a "
                                 "vision+tags model trained with a mask_schedule; this one has no tag head.")

    def embeddings(self, images: Tensor | Sequence[Image.Image]) -> Tensor:
        """The identity features [B, D (+ H)] (on the CPU) of a batch [B, 3, S, S] or of decoded pictures: see
        :meth:`identity`."""
        batch = images if isinstance(images, Tensor) else self.to_batch(images)
        return self.identity(batch, self.forward(batch)).cpu()

    def identity(self, batch: Tensor, output: ModelOutput) -> Tensor:
        """What the open set compares pictures by, for an input ``batch`` [B, 3, S, S] and the model's ``output``
        for it: the L2-normalised embedding [B, D], followed by the batch's colour histogram [B, H] when the
        calibration weighs colour (:mod:`.colour`). Enrolled prototypes and answers are made of these."""
        embedding = embed(output)
        if self.colour is None:
            return embedding
        return torch.cat([embedding, self.colour(batch.to(embedding.device)).to(embedding.dtype)], dim=1)

    @torch.inference_mode()
    def predict_loader(self, loader: DataLoader, k: int = 5, max_batches: int | None = None,
                       desc: str = "evaluating", progress: bool = True, embeddings: bool = False,
                       bar: tqdm | None = None) -> Predictions:
        """Top-``k`` predictions and per-sample loss on every readable sample of a labelled ``loader``.

        The model sees the images only: a vision+tags model reads its fully masked prompt, never the
        sample's tags, which (``"token_labels"`` of the batch) serve as the targets of its tag predictions.
        ``bar``: a progress bar to reset and advance (training reuses one every epoch) instead of a new one.
        """
        self.model.eval()
        parts: dict[str, list[Tensor]] = {}
        total = len(loader) if max_batches is None else min(len(loader), max_batches)
        own_bar = bar is None
        if own_bar:
            bar = progress_bar(total=total, desc=desc, leave=False, disable=not progress)
        bar.reset(total=total)
        for step, batch in enumerate(loader):
            if max_batches is not None and step >= max_batches:
                break
            bar.update()
            if batch is None:  # every image of the batch was unreadable (already reported)
                continue
            labels = batch["label"].to(self.device)
            output = self.forward(batch["image"])
            logits = output["logits"].float()
            prob, idx = logits.softmax(dim=-1).topk(min(k, logits.shape[-1]), dim=-1)
            values = {"labels": labels, "topk_idx": idx, "topk_prob": prob, "indices": batch["index"],
                      "loss": F.cross_entropy(logits, labels, reduction="none")}
            if output["token_logits"] is not None and "token_labels" in batch:
                values["token_pred"], values["token_loss"] = _token_results(output["token_logits"].float(),
                                                                            batch["token_labels"].to(self.device))
                values["loss"] = values["loss"] + values["token_loss"]
            if embeddings:
                values["embeddings"] = self.identity(batch["image"], output)
            if output["tag_logits"] is not None:
                values["tag_scores"] = output["tag_logits"].float().sigmoid()
                if "tag_targets" in batch:
                    values["tag_targets"] = batch["tag_targets"]
            for key, value in values.items():
                parts.setdefault(key, []).append(value.cpu())
        if own_bar:
            bar.close()
        if not parts:
            return Predictions.empty(k)
        return Predictions(**{key: torch.cat(values) for key, values in parts.items()})


def embed(output: ModelOutput) -> Tensor:
    """The L2-normalised embeddings [B, D] of a model output (fp32)."""
    return F.normalize(output["embedding"].float(), dim=-1)


def _token_results(token_logits: Tensor, token_labels: Tensor) -> tuple[Tensor, Tensor]:
    """Most likely token [B, T] and each sample's mean cross-entropy over its labelled positions [B]."""
    per_token = F.cross_entropy(token_logits.transpose(1, 2), token_labels, reduction="none")  # [B, T]; 0 if ignored
    counts = (token_labels != IGNORE).sum(dim=1).clamp(min=1)
    return token_logits.argmax(dim=-1), per_token.sum(dim=1) / counts


__all__ = ["Predictor", "embed"]
