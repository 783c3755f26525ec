# Animesion Workbook: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup demo test lint lab bench bench-recipes bench-open-set bench-tagging clean

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

# Real pictures for the benchmarks: DATA=folder with one subfolder per character (or $ANIMESION_BENCH_DATA)
BENCH_DATA := $(if $(DATA),--data $(DATA),)

bench: setup  ## speed and memory benchmarks (prints ratios, writes benchmarks/results.md)
	$(BIN)/python -m benchmarks.run $(BENCH_DATA)

bench-recipes: setup  ## original vs modern recipe on real faces (DATA=folder), writes benchmarks/recipes.md
	$(BIN)/python -m benchmarks.recipes $(BENCH_DATA)

bench-open-set: setup  ## enrolment and "unknown" on real faces (DATA=folder), writes benchmarks/open_set.md
	$(BIN)/python -m benchmarks.open_set $(BENCH_DATA)

bench-tagging: setup  ## tag head vs vision+tags ViT, captioning speed (DATA=DAF:re-layout root with tags; default synthetic), writes benchmarks/tagging.md
	$(BIN)/python -m benchmarks.tagging $(BENCH_DATA)

clean:  ## remove generated data and outputs (keeps .venv)
	rm -rf data outputs/notebooks outputs/*/ .pytest_cache
