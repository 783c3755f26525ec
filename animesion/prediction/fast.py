"""Optional CPU fast paths for inference: int8 Linear layers (PyTorch) or ONNX Runtime.

``make_fast(predictor, fast_path)`` returns a predictor whose model runs faster on the CPU and still
returns a :class:`ModelOutput`, so every caller uses it as is.

- ``int8``: dynamic quantisation of every ``nn.Linear`` (weights int8 per output channel, activations
  quantised on the fly). Transformers spend almost all their time in Linear layers, so ViTs gain most;
  CNNs keep their convolutions in fp32 and gain little. Predictions can change where the top two
  classes are nearly tied, which is why the benchmark reports top-1 agreement with fp32.
- ``onnx``: the model exported to ONNX and run by ONNX Runtime with its graph fusions, in fp32, so the
  predictions (the logits and the embedding, so enrolment and "unknown" too) are the same as PyTorch's
  up to rounding.

Each entry of :data:`FAST_PATHS` says what it gives (``gives_embeddings``), so callers ask it instead of
testing its name.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import ConfigError
from ..models.output import ModelOutput, model_output
from ..registry import Registry
from .onnx import TAG_OUTPUT, onnx_program
from .predictor import Predictor


@dataclass(frozen=True)
class FastPath:
    """A CPU fast path: ``build(model, image_size)`` returns the faster model; ``gives_embeddings`` says whether
    its outputs include the embedding (needed to enrol characters and to answer "unknown")."""

    build: Callable[[nn.Module, int], nn.Module]
    gives_embeddings: bool = True


FAST_PATHS: Registry[FastPath] = Registry("fast_path")


def quantize_linear_int8(model: nn.Module, image_size: int) -> nn.Module:
    """A copy of ``model`` whose Linear layers run in int8 (dynamic quantisation, per-channel weights).

    ``image_size`` is not needed here; every fast-path builder takes it (the ONNX export does).
    """
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError:
        raise ConfigError(f"fast_path='int8' needs torch.ao.quantization, which torch {torch.__version__} no "
                          "longer has; use fast_path='onnx'.") from None
    with warnings.catch_warnings():
        # torch.ao announces its move to the separate torchao package; the eager API still works here.
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated")
        warnings.filterwarnings("ignore", message=".*quantized tensor creation functions")
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), {nn.Linear: per_channel_dynamic_qconfig})


class OnnxRuntimeModel(nn.Module):
    """An ONNX Runtime session behind the ``nn.Module`` interface: images in, :class:`ModelOutput` out."""

    def __init__(self, session, input_name: str) -> None:  # session: onnxruntime.InferenceSession
        super().__init__()
        self.session = session
        self.input_name = input_name
        # An empty parameter, so callers that find a model's device from its parameters see the CPU.
        self.anchor = nn.Parameter(torch.empty(0), requires_grad=False)

    def forward(self, images: Tensor) -> ModelOutput:
        """images [B, 3, H, W] (any device, fp32) → logits [B, num_classes], embedding [B, D] and, with a tag
        head, tag_logits [B, tags], on the CPU."""
        feed = {self.input_name: images.detach().float().cpu().contiguous().numpy()}
        names = [o.name for o in self.session.get_outputs()]
        found = dict(zip(names, (torch.from_numpy(a) for a in self.session.run(names, feed))))
        return model_output(found["logits"], found["embedding"], tag_logits=found.get(TAG_OUTPUT))


def onnx_runtime(model: nn.Module, image_size: int) -> nn.Module:
    """``model`` exported to ONNX (batch size left free) and run by ONNX Runtime on the CPU, in fp32."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ConfigError("fast_path='onnx' needs the onnxruntime package (pip install onnxruntime onnxscript); "
                          "or use fast_path='int8'.") from None
    program = onnx_program(model, image_size)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = torch.get_num_threads()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(program.model_proto.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    return OnnxRuntimeModel(session, session.get_inputs()[0].name)


FAST_PATHS.register("int8")(FastPath(quantize_linear_int8))
FAST_PATHS.register("onnx")(FastPath(onnx_runtime))


def fast_path_names() -> list[str]:
    """The ``fast_path`` choices: ``none`` and every registered fast path."""
    return ["none", *FAST_PATHS.names()]


def make_fast(predictor: Predictor, fast_path: str = "none") -> Predictor:
    """A predictor whose model takes the CPU fast path ``fast_path`` (``none`` returns ``predictor``).

    The fast model runs on the CPU in fp32; the original predictor and its model are left untouched.
    """
    if fast_path == "none":
        return predictor
    if predictor.spec.multimodal:
        raise ConfigError(f"fast_path='{fast_path}' supports image-only checkpoints; this one is a vision+tags "
                          "model, so set fast_path='none'.")
    path = FAST_PATHS.get(fast_path)
    fast = predictor.with_model(path.build(predictor.model, predictor.spec.image_size))
    if not path.gives_embeddings:
        fast.open_set = None  # prototypes and "unknown" compare embeddings
    return fast


__all__ = ["FAST_PATHS", "FastPath", "OnnxRuntimeModel", "fast_path_names", "make_fast", "quantize_linear_int8"]
