"""Timing and memory measurement that stays fair on a busy machine.

Candidates are timed in interleaved rounds (A, B, A, B, …) and each keeps its best round, as
``timeit`` does: other processes only ever slow a round down, so the fastest round is the closest
to the true cost, and interleaving exposes both candidates to the same background load.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

Work = Callable[[], int]  # runs once and returns how many items (images) it processed


@dataclass
class Rate:
    """Throughput of one candidate: best and median items per second over the timed rounds."""

    best: float
    median: float
    rounds: int


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock time covers it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_rates(candidates: dict[str, Work], rounds: int, device: torch.device,
                      warmup: int = 0) -> dict[str, Rate]:
    """Items per second of every candidate, timed in ``rounds`` interleaved rounds after ``warmup`` calls."""
    for work in candidates.values():
        for _ in range(warmup):
            work()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, work in candidates.items():
            synchronize(device)
            start = time.perf_counter()
            items = work()
            synchronize(device)
            samples[name].append(items / max(time.perf_counter() - start, 1e-9))
    return {name: Rate(max(s), sorted(s)[len(s) // 2], len(s)) for name, s in samples.items()}


def matmul_work(device: torch.device, size: int | None = None) -> tuple[Work, float]:
    """A big fp32 ``torch.mm`` (the roofline the training steps are compared to) and its FLOPs per call."""
    size = size or (8192 if device.type == "cuda" else 2048)
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)

    def work() -> int:
        torch.mm(a, b)
        return 1

    return work, 2.0 * size**3


class PeakMemory:
    """Peak memory of a block above what the process held when it started, in MiB.

    CUDA: ``torch.cuda.max_memory_allocated``. CPU (Linux): the resident-set high-water mark, reset at
    the start via ``/proc/self/clear_refs`` after returning freed heap pages with ``malloc_trim``, so
    each block is measured on its own. Elsewhere ``mib`` stays None.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.mib: float | None = None
        self._base = 0

    def __enter__(self) -> PeakMemory:
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
        elif _reset_rss_peak():
            self._base = _status_kib("VmRSS")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.mib = (torch.cuda.max_memory_allocated(self.device) - self._base) / 2**20
        elif self._base:
            self.mib = (_status_kib("VmHWM") - self._base) / 1024


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_rss_peak() -> bool:
    """Give freed heap pages back and reset the RSS high-water mark; False where Linux's /proc is missing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True
