"""Result tables, the target checklist, and their Markdown form for ``benchmarks/results.md``."""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from animesion.performance import available_cpus


@dataclass
class Table:
    """One table of a section: a title, column names, rows of already formatted cells, and notes."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Target:
    """A goal of the issue: what was measured, what was asked, and whether it was met (None: not measured)."""

    name: str
    measured: str
    goal: str
    met: bool | None


@dataclass
class Section:
    """What one benchmark produced."""

    name: str
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)


def ratio(fast: float, reference: float) -> str:
    """A speed-up as text, e.g. ``2.31×``."""
    return f"{fast / reference:.2f}×" if reference > 0 else "n/a"


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    """The 1-minute load average (runnable processes), where the platform reports it."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def machine_lines(device: torch.device, load_at_start: float | None) -> list[str]:
    """What the numbers were measured on, including how busy the machine was."""
    gpu = f", GPU {torch.cuda.get_device_name(device)}" if device.type == "cuda" else ""
    loads = [x for x in (load_at_start, load_average()) if x is not None]
    lines = [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M')}",
        f"- Machine: {cpu_name()}, {available_cpus()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads){gpu}",
        f"- Device: {device}; 1-minute load average at the start and the end: "
        + (" / ".join(f"{x:.1f}" for x in loads) or "n/a"),
    ]
    if loads and max(loads) > 1.5 * available_cpus():  # the benchmark itself keeps every core busy
        lines.append(f"- **The machine was busy** (load well above its {available_cpus()} cores): other processes took "
                     "CPU time during the rounds, so absolute figures are low and ratios scatter between runs.")
    return lines


def markdown_table(table: Table) -> str:
    lines = [f"### {table.title}", "", "| " + " | ".join(table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    lines += [""] + [f"- {note}" for note in table.notes]
    return "\n".join(lines).rstrip() + "\n"


def targets_table(sections: list[Section]) -> Table:
    marks = {True: "met", False: "**not met**", None: "not measured"}
    rows = [[t.name, t.measured, t.goal, marks[t.met]] for s in sections for t in s.targets]
    return Table("Targets", ["target", "measured", "goal", "status"], rows)


def render(sections: list[Section], device: torch.device, preamble: list[str], load_at_start: float | None) -> str:
    """The whole ``results.md``: how it was made, the target checklist, then every section's tables."""
    parts = ["# Benchmark results", "", *preamble, "", *machine_lines(device, load_at_start), "",
             markdown_table(targets_table(sections))]
    for section in sections:
        parts += [f"## {section.name}", ""] + [markdown_table(t) for t in section.tables]
    return "\n".join(parts).rstrip() + "\n"


def write_report(output: Path, sections: list[Section], module: str, argv: list[str] | None, started: float,
                 load_at_start: float | None) -> Path:
    """Write a benchmark's Markdown report, saying which command wrote it and how long it took; print where."""
    command = f"python -m {module} " + " ".join(argv if argv is not None else sys.argv[1:])
    preamble = [f"Written by `{command.strip()}` in {(time.perf_counter() - started) / 60:.0f} minutes."]
    output.write_text(render(sections, torch.device("cpu"), preamble, load_at_start))
    print(f"Wrote {output}")
    return output
