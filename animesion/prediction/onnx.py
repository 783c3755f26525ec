"""The model as an ONNX graph: one export, used by ``export_onnx`` (a file) and the ``onnx`` fast path (a session).

The export goes through ``torch.onnx.export`` (the torch.export-based exporter, which needs the
``onnxscript`` package) with a dynamic batch dimension; the graph maps ``images`` [B, 3, S, S],
normalised as in evaluation, to ``logits`` [B, classes] and ``embedding`` [B, D] (the features that
enrolment and "unknown" compare), and with a tag head ``tag_logits`` [B, tags], so every answer of the
PyTorch model is also the ONNX graph's.
"""

from __future__ import annotations

import copy
import importlib.util
import warnings

import torch
from torch import Tensor, nn

from ..errors import AnimesionError

OUTPUTS = ("logits", "embedding")  # the graph's outputs, in order: names of ModelOutput entries
TAG_OUTPUT = "tag_logits"  # a third output, for models with a tag head


def outputs_of(model: nn.Module) -> tuple[str, ...]:
    """The graph outputs of ``model``: :data:`OUTPUTS`, and :data:`TAG_OUTPUT` when it has a tag head."""
    return OUTPUTS + ((TAG_OUTPUT,) if getattr(model, "tag_head", None) is not None else ())


class GraphOutputs(nn.Module):
    """The outputs of ``model(images)`` as a tuple (:func:`outputs_of`): ONNX graphs return tensors, not the
    ``ModelOutput`` dict."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.names = outputs_of(model)

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        """images [B, 3, S, S] → logits [B, classes], embedding [B, D] (and tag_logits [B, tags])."""
        output = self.model(images)
        return tuple(output[name] for name in self.names)


def require(*modules: str) -> None:
    """Stop with one sentence when a package the ONNX paths need is not installed."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise AnimesionError(f"The ONNX paths need {', '.join(missing)}; install it with "
                             f"`pip install {' '.join(missing)}`.")


def onnx_program(model: nn.Module, image_size: int) -> torch.onnx.ONNXProgram:
    """``model`` (a CPU fp32 copy in eval mode; the model itself is left as it is) exported to ONNX."""
    require("onnx", "onnxscript")
    wrapped = GraphOutputs(copy.deepcopy(model).cpu().float().eval()).eval()
    example = torch.zeros(2, 3, image_size, image_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter reports its own progress and version notes
        return torch.onnx.export(wrapped, (example,), dynamo=True, input_names=["images"],
                                 output_names=list(wrapped.names),
                                 dynamic_shapes={"images": {0: torch.export.Dim("batch", min=1, max=4096)}},
                                 verbose=False)


__all__ = ["OUTPUTS", "TAG_OUTPUT", "GraphOutputs", "onnx_program", "outputs_of", "require"]
