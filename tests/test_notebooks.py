"""The notebooks: every parameters cell, its dataclass and every parameters/*.yaml agree, and the
notebooks run headless under papermill with tiny parameters."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

import nbformat
import pytest

from animesion.strict import load_yaml
from animesion.workbook import NOTEBOOK_CONFIGS, notebook_config, notebook_for_parameters, run_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PARAMETER_FILES = sorted((ROOT / "parameters").glob("*.yaml"))


def parameters_cell(path: Path) -> dict[str, object]:
    """Names and literal values of the notebook's single cell tagged ``parameters``."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: expected exactly one 'parameters' cell, found {len(cells)}"
    values = {}
    for node in ast.parse(cells[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, f"{path.name}: only `name = literal` lines"
        values[node.targets[0].id] = ast.literal_eval(node.value)  # fails on anything derived
    return values


def test_every_notebook_has_a_config():
    assert {p.stem for p in NOTEBOOKS} == set(NOTEBOOK_CONFIGS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_matches_dataclass(path):
    config = notebook_config(path.stem)
    values = parameters_cell(path)
    assert list(values) == config.field_names()
    assert values == config.defaults()
    config.from_dict(values)  # and the values are valid


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_opens_the_same_way(path):
    nb = nbformat.read(path, as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# ")
    assert "%load_ext autoreload" in nb.cells[1].source and "%autoreload 2" in nb.cells[1].source
    tagged = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    config_cell = next(c for c in nb.cells[tagged + 1 :] if c.cell_type == "code")
    assert ".from_namespace(globals())" in config_cell.source
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "source notebooks carry no outputs"


@pytest.mark.parametrize("path", PARAMETER_FILES, ids=lambda p: p.name)
def test_parameter_files_are_valid_command_lines(path):
    config = notebook_config(notebook_for_parameters(path))
    config.from_dict(load_yaml(path))


@pytest.mark.notebook
def test_train_evaluate_infer_headless(tiny_dataset, tmp_path, capfd):
    results = tmp_path / "outputs"
    run_notebook("03_train", {"dataset_path": str(tiny_dataset), "results_dir": str(results), "image_size": 32,
                              "no_epochs": 4, "batch_size": 16, "run_name": "nb", "no_cpu_workers": 0},
                 output=tmp_path / "03.ipynb", progress=False)
    metrics = json.loads((results / "nb" / "metrics.json").read_text())
    assert {"test_top1", "test_top5"} <= set(metrics)
    assert (results / "nb" / "figures" / "history.png").is_file()
    executed = nbformat.read(tmp_path / "03.ipynb", as_version=4)
    assert any(o.get("output_type") == "display_data" for c in executed.cells for o in c.get("outputs", []))
    training = next(c for c in executed.cells if c.cell_type == "code" and "launch(" in c.source)
    # The live plot and one progress bar each for training, validation and testing, not one per epoch.
    assert len(training.outputs) <= 6, [o.get("output_type") for o in training.outputs]

    run_notebook("04_evaluate", {"results_dir": str(results), "vis_arch": True, "no_cpu_workers": 0},
                 output=tmp_path / "04.ipynb", progress=False)
    assert (results / "nb" / "evaluation_test" / "per_class_accuracy.csv").is_file()
    assert (results / "nb" / "evaluation_test" / "confused_pairs.png").is_file()

    images = tmp_path / "imgs"
    images.mkdir()
    (images / "notes.txt").write_text("not an image")
    run_notebook("05_inference", {"results_dir": str(results), "test_path": str(images)},
                 output=tmp_path / "05.ipynb", progress=False)
    failures = (results / "inference" / "failures.csv").read_text()
    assert "notes.txt" in failures
    # The kernels of three successful runs said nothing: no TCP warning, no KeyboardInterrupt at shutdown.
    printed = capfd.readouterr()
    assert not [line for line in (printed.out + printed.err).splitlines() if "WARNING" in line or "ERROR" in line]


def test_bad_parameter_stops_with_one_sentence(tmp_path):
    from animesion.errors import ConfigError

    with pytest.raises(ConfigError, match="model_name='foo' is not allowed"):
        run_notebook("03_train", {"model_name": "foo"}, output=tmp_path / "x.ipynb", progress=False)
    with pytest.raises(ConfigError, match="unknown parameter 'epochs'"):
        run_notebook("03_train", {"epochs": 3}, output=tmp_path / "x.ipynb", progress=False)


@pytest.mark.notebook
def test_error_in_notebook_is_one_sentence(tmp_path):
    """A missing dataset_path for a real dataset: the cell's error output is one line, no stack trace."""
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as info:
        run_notebook("03_train", {"dataset_name": "moeImouto", "dataset_path": str(tmp_path / "nowhere"),
                                  "results_dir": str(tmp_path)}, output=tmp_path / "x.ipynb", progress=False)
    assert info.value.ename == "DataError"
    assert len(info.value.traceback) == 1 and "does not exist" in info.value.traceback[0]


def test_importing_the_package_leaves_ipython_alone():
    """No handler is installed on import: the one-line notebook error is the exception's own protocol."""
    from IPython.core.interactiveshell import InteractiveShell

    import animesion
    from animesion.errors import DataError

    shell = InteractiveShell.instance()
    importlib.reload(animesion)
    assert shell.custom_exceptions == ()
    assert DataError("no such folder; give another.")._render_traceback_() == [
        "DataError: no such folder; give another."]


def test_workbook_cli_prints_one_sentence(capsys):
    from animesion.workbook import main

    assert main(["03_train", "-p", "model_name", "foo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model_name='foo' is not allowed" in err


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_comments_are_the_help_texts(path):
    """The help of each parameter is written once, in its dataclass: the cell's comments and ``--help`` show it."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    comments = {line.split(" = ", 1)[0]: line.split("  # ", 1)[1] for line in cell.source.splitlines()}
    assert comments == notebook_config(path.stem).help()
