"""An end-to-end training epoch of ``resnet18`` at 128 px over 256-px JPEGs: naive against fast."""

from __future__ import annotations

from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from animesion.models.factory import create_model
from animesion.models.spec import ModelSpec
from animesion.performance import auto_workers, autocast, prepare_model, suggested_mixed_precision

from .data_bench import CACHE_SIDE, package_loader
from .jpegs import JpegSet, resized_copies
from .reference import naive_loader, to_reference
from .report import Section, Table, Target, ratio
from .timing import interleaved_rates

MODEL = "resnet18"
IMAGE_SIZE = 128
BATCH_SIZE = 32


class TrainingEpoch:
    """One epoch as the trainer runs it (load, forward, loss, backward, SGD step); calling it returns the images."""

    def __init__(self, model: nn.Module, loader: DataLoader, device: torch.device, amp: bool) -> None:
        self.model, self.loader, self.device, self.amp = model, loader, device, amp
        self.optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def step(self, batch: dict) -> int:
        images = batch["image"].to(self.device, non_blocking=True)
        labels = batch["label"].to(self.device, non_blocking=True)
        with autocast(self.device, suggested_mixed_precision(self.device)) if self.amp else nullcontext():
            loss = F.cross_entropy(self.model(images)["logits"].float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return len(labels)

    def warm(self) -> None:
        """One step on the first batch: starts the persistent workers and builds the kernels."""
        self.model.train()
        self.step(next(iter(self.loader)))

    def __call__(self) -> int:
        self.model.train()
        return sum(self.step(batch) for batch in self.loader if batch is not None)


def run(images: JpegSet, device: torch.device, count: int, rounds: int) -> Section:
    """Images/s of whole epochs over ``count`` images; the target is fast ≥ 2× naive."""
    subset = images.head(count)
    cache = resized_copies(subset, CACHE_SIDE, f"cache{CACHE_SIDE}")
    workers = auto_workers(device_type=device.type)
    torch.manual_seed(0)
    base = create_model(ModelSpec(model_name=MODEL, num_classes=images.num_classes, image_size=IMAGE_SIZE))
    naive_model = to_reference(base).to(device)
    fast_model = prepare_model(base.to(device))
    candidates = {
        "naive": TrainingEpoch(naive_model, naive_loader(subset.files, subset.labels, IMAGE_SIZE, BATCH_SIZE),
                               device, amp=False),
        f"fast, original files, {workers} worker(s)": TrainingEpoch(
            fast_model, package_loader(subset, workers), device, amp=True),
        f"fast, pre-resized cache, {workers} worker(s)": TrainingEpoch(
            fast_model, package_loader(cache, workers), device, amp=True),
        "fast, pre-resized cache, no workers": TrainingEpoch(fast_model, package_loader(cache, 0), device,
                                                             amp=True),
    }
    for epoch in candidates.values():
        epoch.warm()
    rates = interleaved_rates(candidates, rounds, device)
    ref = rates["naive"].best
    table = Table(f"End-to-end training epoch: {MODEL} at {IMAGE_SIZE} px over {len(subset.files)} JPEGs "
                  f"({images.source})", ["pipeline", "images/s", "vs naive"],
                  [[name, f"{rate.best:.1f}", ratio(rate.best, ref)] for name, rate in rates.items()])
    table.notes += [
        "Naive: full decode and resize per sample in the main process, NCHW, fp32.",
        f"Fast: reduced-size decode, `auto_workers` loader workers ({workers} here), persistent workers, "
        "channels_last (`prepare_model`), autocast on CUDA; the cache rows read files pre-resized to a "
        f"{CACHE_SIDE}-px short side. Each pipeline took one warm-up step before timing.",
    ]
    best = max(rate.best for name, rate in rates.items() if name != "naive")
    target = Target(f"{MODEL} end-to-end epoch vs naive", ratio(best, ref), "≥ 2×", best >= 2 * ref)
    return Section("End-to-end epoch", [table], [target])
