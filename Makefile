# Animesion Workbook: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup demo test lint lab bench bench-recipes bench-open-set clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP)  ## create .venv (if needed) and install the package with its test extras

demo: setup  ## run the notebooks headless on the synthetic dataset into outputs/
	$(BIN)/python -m animesion.demo

lint: setup
	$(BIN)/ruff check .

test: lint  ## ruff, then the whole test suite (unit tests, papermill runs, nbval)
	$(BIN)/python -m pytest --nbval-lax tests notebooks $(PYTEST_ARGS)

# jupyter lab refuses to start as root (containers, some cloud machines) unless told it may
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup  ## open JupyterLab on notebooks/
	$(BIN)/python -m pip install --quiet -e '.[lab]'
	$(BIN)/jupyter lab $(ALLOW_ROOT) notebooks/

bench: setup  ## speed and memory benchmarks (prints ratios, writes benchmarks/results.md)
	$(BIN)/python benchmarks/run.py

bench-recipes: setup  ## original vs modern recipe on real faces (shared/data/holo20), writes benchmarks/recipes.md
	$(BIN)/python benchmarks/recipes.py

bench-open-set: setup  ## enrolment and "unknown" on real faces (the shared protocol), writes benchmarks/open_set.md
	$(BIN)/python benchmarks/open_set.py

clean:  ## remove generated data and outputs (keeps .venv)
	rm -rf data outputs/notebooks outputs/*/ .pytest_cache
