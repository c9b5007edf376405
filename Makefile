# ntkpaper — the two commands a newcomer needs are `make paper` and `make test`.
#   make paper   full paper → results/paper/ntk.pdf   (creates .venv, installs TeX if needed)
#   make quick   the same DAG on experiments/quick.yaml (a few minutes)
#   make test    the test suite, including the quick workflow end to end
#   make bench   benchmarks → results/bench/*.json and the paper's cost table
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 8
TEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended texlive-science texlive-latex-extra

.PHONY: paper quick test test-fast bench lint format tex venv lock clean

venv: $(STAMP)

# Refreshes whenever a pin changes. neural-tangents goes in with --no-deps (see README).
$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

tex:
	@if command -v latexmk >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing TeX with apt-get (about a minute)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	else \
	  echo "error: latexmk is missing. Install TeX first:"; \
	  echo "  sudo apt-get install -y --no-install-recommends $(TEX_PACKAGES)"; exit 1; \
	fi

paper: venv tex
	$(BIN)/snakemake --cores $(CORES)

quick: venv tex
	$(BIN)/snakemake --cores $(CORES) --configfile experiments/quick.yaml

test: venv tex
	$(BIN)/python -m pytest

test-fast: venv
	$(BIN)/python -m pytest -m "not slow and not slurm"

bench: venv
	$(BIN)/python benchmarks/run_all.py

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Re-pin after changing a version in requirements.txt by hand: regenerates the full lock.
lock: venv
	{ sed -n '1,3p' requirements.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -vi '^neural-tangents=='; } > requirements.txt.new && mv requirements.txt.new requirements.txt

clean:
	rm -rf results/* .snakemake
