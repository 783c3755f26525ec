"""The package's shape: no import cycle between its parts, configs without torch, lint over everything."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import animesion

PACKAGE = Path(animesion.__file__).parent


def part(module: str) -> str:
    """The part of the package a module belongs to: its subpackage, or the top-level module itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports_between_parts() -> dict[str, set[str]]:
    """part → the other parts it imports (every import statement, lazy ones inside functions included)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [node.module] if node.module else [a.name for a in node.names]
                targets = [".".join(base + [name]) for name in names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("animesion"):
                targets = [node.module]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("animesion")]
            else:
                continue
            for target in targets:
                if part(target) not in ("", part(module)):
                    edges[part(module)].add(part(target))
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle of the graph, each as the list of parts around it (depth-first search)."""
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": {"c"}}) == []


def test_no_import_cycle_between_the_parts_of_the_package():
    edges = imports_between_parts()
    assert "training" in edges["inference"] or "config" in edges["inference"]  # the walk sees real imports
    assert cycles(edges) == []


def test_models_and_the_configs_stay_apart():
    edges = imports_between_parts()
    assert "config" not in edges["models"] and "training" not in edges["models"]
    assert not {"training", "evaluation", "inference", "attention"} & edges["config"]


def test_configs_and_model_specs_are_built_without_torch():
    code = ("import sys; from animesion.config.train import TrainConfig; from animesion.models.spec import ModelSpec;"
            "c = TrainConfig(model_name='Ti_16', multimodal=True, mask_schedule='sigmoid', tokenizer='wp'); "
            "c.model_spec(10, 50); from animesion.workbook import notebook_config; "
            "[notebook_config(n)() for n in ('01_data_exploration', '02_make_dataset', '04_evaluate', "
            "'05_inference', '06_attention_viz')]; assert 'torch' not in sys.modules, 'torch was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_lint_covers_the_whole_package():
    root = PACKAGE.parent
    listed = subprocess.run([sys.executable, "-m", "ruff", "check", "--show-files", "."], cwd=root,
                            capture_output=True, text=True).stdout
    assert "animesion/data/images.py" in listed and "animesion/data/synthetic/drawing.py" in listed


MAX_FUNCTION_LINES = 60
LONG_FUNCTIONS: dict[str, str] = {}  # "module:function" → why it reads better long (none today)


def test_no_function_is_longer_than_60_lines():
    """Small functions, as the style guide asks; an exception must be written down with its reason."""
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                name = f"{path.relative_to(PACKAGE.parent).with_suffix('')}:{node.name}"
                if lines > MAX_FUNCTION_LINES and name not in LONG_FUNCTIONS:
                    long.append(f"{name} ({lines} lines)")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"
