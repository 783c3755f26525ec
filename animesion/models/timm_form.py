"""Workbook models that timm can rebuild on its own, and their weights under timm's names.

A shared folder (:mod:`animesion.share`) stores such a model as timm stores its own (``config.json`` with
``architecture`` and ``model_args``, ``model.safetensors`` in timm's names), so
``timm.create_model("local-dir:FOLDER", pretrained=True)`` gives the same logits. Which models qualify is a
registry by family:

* the torchvision ResNets: timm's ResNet has torchvision's layer names, so only the wrapper's ``net.``
  prefix goes (torchvision's EfficientNet is laid out differently from timm's, so it does not qualify);
* plain ViTs: the workbook's trunk is a timm ``VisionTransformer``; the ``vit.`` prefix goes and the
  classifier is timm's ``head``. timm rebuilds its LayerNorms with eps 1e-6 where the workbook's have 1e-12
  (the original's), and no config field sets it. Every LayerNorm reads the residual stream, and
  ``LN(k·x, eps) = LN(x, eps / k²)``; so the weights that write the stream (patch embedding, position
  embedding, class token, and each block's attention and MLP output projections) are stored ``k = 1000``
  times larger, and timm's eps 1e-6 acts as the workbook's 1e-12. The workbook divides them back on loading.

The IFA head, the vision+tags inputs and the tag head are the workbook's own: such models are shared in the
workbook's names, and the workbook loads them where timm cannot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from ..registry import Registry
from .catalog import ARCHITECTURES, Architecture, TorchvisionCNN, ViTSize
from .spec import ModelSpec

State = dict[str, Tensor]


@dataclass(frozen=True)
class TimmForm:
    """How timm rebuilds one model: its ``architecture`` and ``model_args``, the weights' prefix in the
    workbook (``net.``, ``vit.``), which timm's names lack, and the weights (timm's names, ``scaled``) stored
    ``scale`` times larger."""

    architecture: str
    model_args: dict[str, Any]
    prefix: str
    scaled: re.Pattern[str] | None = None
    scale: float = 1.0

    def _factor(self, key: str) -> float:
        return self.scale if self.scaled is not None and self.scaled.fullmatch(key) else 1.0

    def to_timm(self, state: State) -> State:
        """Workbook weights → timm's names (the classifier ``head.*`` keeps its name), scaled."""
        out = {k.removeprefix(self.prefix): v for k, v in state.items()}
        return {k: v * self._factor(k) for k, v in out.items()}

    def from_timm(self, state: State) -> State:
        """timm's weights → the workbook's names, unscaled."""
        return {(k if k.startswith("head.") and self.prefix == "vit." else self.prefix + k): v / self._factor(k)
                for k, v in state.items()}


# What writes a ViT's residual stream, and how much larger it is stored (see the module doc): eps 1e-6 / k² = 1e-12
VIT_STREAM_WRITERS = re.compile(r"patch_embed\.proj\.(weight|bias)|pos_embed|cls_token|"
                                r"blocks\.\d+\.(attn\.proj|mlp\.fc2)\.(weight|bias)")
VIT_STREAM_SCALE = 1000.0
FormOf = Callable[[ModelSpec, Architecture], "TimmForm | None"]
TIMM_FORMS: Registry[FormOf] = Registry("model family with a timm form")


@TIMM_FORMS.register("torchvision")
def _torchvision(spec: ModelSpec, arch: TorchvisionCNN) -> TimmForm | None:
    if not arch.arch.startswith("resnet"):
        return None
    return TimmForm(arch.arch, {"num_classes": spec.num_classes}, "net.")


@TIMM_FORMS.register("vit")
def _vit(spec: ModelSpec, arch: ViTSize) -> TimmForm | None:
    if spec.interm_features_fc or spec.multimodal:
        return None
    args = {"img_size": spec.image_size, "patch_size": arch.patch, "embed_dim": arch.width, "depth": arch.depth,
            "num_heads": arch.heads, "num_classes": spec.num_classes}
    return TimmForm(f"vit_base_patch{arch.patch}_224", args, "vit.", VIT_STREAM_WRITERS, VIT_STREAM_SCALE)


def timm_form(spec: ModelSpec) -> TimmForm | None:
    """The :class:`TimmForm` of the model ``spec`` describes, or None when timm cannot rebuild it."""
    arch = ARCHITECTURES.get(spec.model_name)
    if spec.num_tags or arch.family not in TIMM_FORMS:
        return None
    return TIMM_FORMS.get(arch.family)(spec, arch)


__all__ = ["TIMM_FORMS", "TimmForm", "timm_form"]
