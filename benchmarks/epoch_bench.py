"""An end-to-end training epoch of ``resnet18`` at 128 px over 256-px JPEGs: naive against fast."""

from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from animesion.config.train import TrainConfig
from animesion.models import create_model
from animesion.performance import auto_workers, autocast, prepare_model

from .data_bench import CACHE_SIDE, package_loader
from .jpegs import JpegSet, resized_copies
from .reference import naive_loader, to_reference
from .report import Section, Table, Target, ratio
from .timing import Work, interleaved_rates

MODEL = "resnet18"
IMAGE_SIZE = 128
BATCH_SIZE = 32


def training_epoch(model: nn.Module, loader: DataLoader, device: torch.device, amp: bool) -> Work:
    """One epoch as the trainer runs it: load, forward, loss, backward, SGD step; returns the image count."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def work() -> int:
        model.train()
        seen = 0
        for batch in loader:
            images = batch["image"].to(device, non_blocking=True)
            labels = batch["label"].to(device, non_blocking=True)
            with autocast(device) if amp else nullcontext():
                loss = F.cross_entropy(model(images)["logits"].float(), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            seen += len(labels)
        return seen

    return work


def run(images: JpegSet, device: torch.device, count: int, rounds: int) -> Section:
    """Images/s of whole epochs over ``count`` images; the target is fast ≥ 2× naive."""
    subset = images.head(count)
    cache = resized_copies(subset, CACHE_SIDE, f"cache{CACHE_SIDE}")
    workers = auto_workers(device_type=device.type)
    torch.manual_seed(0)
    base = create_model(TrainConfig(model_name=MODEL, image_size=IMAGE_SIZE), images.num_classes)
    naive = training_epoch(to_reference(base).to(device),
                           naive_loader(subset.files, subset.labels, IMAGE_SIZE, BATCH_SIZE), device, amp=False)
    fast_model = prepare_model(base.to(device))
    candidates = {
        "naive": naive,
        "fast, original files": training_epoch(fast_model, package_loader(subset, workers, device), device, True),
        "fast, pre-resized cache": training_epoch(fast_model, package_loader(cache, workers, device), device, True),
    }
    rates = interleaved_rates(candidates, rounds, device)
    ref = rates["naive"].best
    table = Table(f"End-to-end training epoch: {MODEL} at {IMAGE_SIZE} px over {len(subset.files)} JPEGs "
                  f"({images.source})", ["pipeline", "images/s", "vs naive"],
                  [[name, f"{rate.best:.1f}", ratio(rate.best, ref)] for name, rate in rates.items()])
    table.notes += [
        "Naive: full decode and resize per sample in the main process, NCHW, fp32.",
        f"Fast: reduced-size decode, {workers} loader worker(s) (`auto_workers`), persistent workers, "
        "channels_last (`prepare_model`), autocast on CUDA; the cache row reads files pre-resized to a "
        f"{CACHE_SIDE}-px short side.",
    ]
    best = max(rates[name].best for name in candidates if name != "naive")
    target = Target(f"{MODEL} end-to-end epoch vs naive", ratio(best, ref), "≥ 2×", best >= 2 * ref)
    return Section("End-to-end epoch", [table], [target])
