"""Training throughput and peak memory: the workbook's models against the naive reference, at 128 px."""

from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.performance import (
    amp_settings,
    autocast,
    prepare_model,
    suggested_mixed_precision,
    uses_fused_attention,
)

from .reference import to_reference
from .report import Section, Table, Target, mib, ratio
from .timing import PeakMemory, Work, interleaved_rates, matmul_work

IMAGE_SIZE = 128
NUM_CLASSES = 3263  # DAF:re's character count, so the classifier heads have their real size
BATCH_SIZES = {"shallow": 64, "resnet18": 32, "S_16": 16, "B_16": 8}  # CPU batch sizes that keep a step short
CUDA_BATCH_SIZE = 64


def train_step(model: nn.Module, batch_size: int, device: torch.device, amp: bool = False) -> Work:
    """One SGD-with-momentum step on a fixed random batch, as the trainer takes it; returns the batch size."""
    images = torch.randn(batch_size, 3, IMAGE_SIZE, IMAGE_SIZE, device=device)  # [B, 3, S, S]
    labels = torch.randint(0, NUM_CLASSES, (batch_size,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=amp and amp_settings(device).grad_scaler)

    def work() -> int:
        with autocast(device, suggested_mixed_precision(device)) if amp else nullcontext():
            loss = F.cross_entropy(model(images)["logits"].float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        return batch_size

    return work


def flops_per_image(model: nn.Module, device: torch.device) -> float:
    """FLOPs of one training step (forward and backward) per image, counted by ``FlopCounterMode``."""
    with FlopCounterMode(display=False) as counter:
        train_step(model, 1, device)()
    return float(counter.get_total_flops())


def measure_model(name: str, device: torch.device, rounds: int, compile: bool) -> dict:
    """Reference and fast training steps of ``name``: images/s, memory above the weights, FLOPs."""
    batch = CUDA_BATCH_SIZE if device.type == "cuda" else BATCH_SIZES[name]
    torch.manual_seed(0)
    base = create_model(ModelSpec(model_name=name, num_classes=NUM_CLASSES, image_size=IMAGE_SIZE))
    reference = to_reference(base).to(device)
    fast = prepare_model(base.to(device), compile=compile)
    works, memory = {}, {}
    for label, model, amp in (("reference", reference, False), ("fast", fast, True)):
        model.train()
        with PeakMemory(device) as peak:
            works[label] = train_step(model, batch, device, amp=amp)
            works[label]()  # the first step also allocates the optimizer's momentum
            works[label]()
        memory[label] = peak.mib
    works["matmul"], mm_flops = matmul_work(device)  # timed in the same rounds, so under the same load
    works["matmul"]()
    rates = interleaved_rates(works, rounds, device)
    return {"name": name, "batch": batch, "rates": rates, "memory": memory, "matmul": rates["matmul"].best * mm_flops,
            "flops": flops_per_image(reference, device), "fused": uses_fused_attention(fast)}


def run(device: torch.device, models: list[str], rounds: int, compile: bool = False) -> Section:
    """The training table and the B_16 targets (speed-up over the reference, share of the matmul roofline)."""
    table = Table(
        f"Training step at {IMAGE_SIZE} px ({NUM_CLASSES} classes, SGD with momentum)",
        ["model", "batch", "reference img/s", "fast img/s", "speed-up", "reference MiB", "fast MiB",
         "GFLOP/img", "fast GFLOP/s", "matmul GFLOP/s", "of matmul"],
    )
    section = Section("Training", [table])
    for name in models:
        m = measure_model(name, device, rounds, compile)
        ref, fast = m["rates"]["reference"].best, m["rates"]["fast"].best
        gflops, peak = m["flops"] / 1e9 * fast, m["matmul"] / 1e9
        table.rows.append([name, str(m["batch"]), f"{ref:.1f}", f"{fast:.1f}", ratio(fast, ref),
                           mib(m["memory"]["reference"]), mib(m["memory"]["fast"]), f"{m['flops'] / 1e9:.2f}",
                           f"{gflops:.1f}", f"{peak:.1f}", f"{gflops / peak:.0%}"])
        if name == "B_16":
            section.targets.append(Target("B_16 training vs reference", ratio(fast, ref), "≥ 1.10×", fast >= 1.1 * ref))
            section.targets.append(Target("B_16 training, share of fp32 matmul throughput", f"{gflops / peak:.0%}",
                                          "≥ 80%", gflops >= 0.8 * peak))
    amp = amp_settings(device)
    table.notes += [
        "matmul GFLOP/s: a 2048² fp32 `torch.mm` (8192² on CUDA) timed in the same rounds as the model, so under "
        "the same background load; 'of matmul' is the fast step's GFLOP/s as a share of it.",
        "Reference: explicit softmax attention with separate q/k/v Linear layers (ViTs), NCHW layout, fp32.",
        "Fast: timm's fused qkv projection and `F.scaled_dot_product_attention` (ViTs), channels_last (CNNs)"
        + (f", {str(amp.dtype).removeprefix('torch.')} autocast" if amp.enabled else ", fp32")
        + (", torch.compile" if compile else "") + "; the same weights and the same function as the reference.",
        "MiB: peak memory of a training step above the model's weights (gradients, momentum, activations); "
        "resident-set high-water mark on CPU, `max_memory_allocated` on CUDA.",
        "GFLOP/img counts forward and backward matmuls and convolutions (`FlopCounterMode`).",
    ]
    return section
