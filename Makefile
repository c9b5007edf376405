# ntkpaper — the two commands a newcomer needs are `make paper` and `make test`.
#   make paper   full paper → results/paper/ntk.pdf   (creates .venv, installs TeX if needed)
#   make quick   the same DAG on experiments/quick.yaml (a few minutes)
#   make test    the test suite, including the quick workflow end to end
#   make bench   benchmarks → results/bench/*.json and the paper's cost table
SHELL := /bin/bash
# The newest supported Python found (3.13, 3.12, 3.11; on PATH or under pyenv); override with
# `make PYTHON=/path/to/python3.x`. A name that exists but does not run (a pyenv shim for a
# version not selected) is skipped.
SUPPORTED := 3.13 3.12 3.11
find_python = $(firstword $(foreach v,$(SUPPORTED),$(shell for p in python$(v) $(wildcard $(HOME)/.pyenv/versions/$(v)*/bin/python$(v)); do $$p -c '' 2>/dev/null && { echo $$p; break; }; done)))
ifeq ($(origin PYTHON),undefined)
PYTHON := $(call find_python)
endif
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 8
TEX_PACKAGES := latexmk texlive-latex-base texlive-latex-recommended texlive-science texlive-latex-extra

.PHONY: paper quick report unlock test test-fast bench lint format tex venv lock clean

venv: $(STAMP)

# Refreshes whenever a pin changes. neural-tangents and mlxtend go in with --no-deps (see README).
$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@test -n "$(PYTHON)" && $(PYTHON) -c '' 2>/dev/null || { echo "error: no Python 3.11, 3.12 or 3.13 found; install one or run 'make PYTHON=/path/to/python3.x'"; exit 1; }
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

# TARGETS: build only these files (e.g. one instance: results/instances/<kind>/<name>.json);
# CONFIG: your own overlay file(s), merged over the config as quick.yaml is.
# A run killed hard leaves Snakemake's lock behind: unlock removes it when no Snakemake runs
# here (and stops, naming the pid, when one does), so rerunning the same command resumes.
# The overlay files are read strictly first (ntkpaper.pipeline.config): a YAML syntax error or a
# duplicated key is refused naming the file and line, and an empty overlay is left out.
overlays = files=$$($(BIN)/python -m ntkpaper.pipeline.config $(1)) &&

paper: venv tex unlock
	@$(call overlays,$(CONFIG)) set -x && \
	$(BIN)/snakemake --cores $(CORES) $(TARGETS) $${files:+--configfile $$files}

quick: venv tex unlock
	@$(call overlays,experiments/quick.yaml $(CONFIG)) set -x && \
	$(BIN)/snakemake --cores $(CORES) $(TARGETS) --configfile $$files

# The HTML report (Snakemake's): every figure with its caption from the paper and the claims
# about its instance, grouped by paper section; the scorecard and the stage costs up front.
# Builds what it shows first (the full grid; CONFIG=experiments/quick.yaml for the quick one).
report: venv unlock
	@$(call overlays,$(CONFIG)) set -x && \
	$(BIN)/snakemake --cores $(CORES) results/report/texts $${files:+--configfile $$files} && \
	$(BIN)/snakemake --report results/report.html $${files:+--configfile $$files}

unlock: venv
	@$(BIN)/python -m ntkpaper.pipeline.locks .

# Two pytest-xdist workers, one test file at a time each (--dist loadfile), the end-to-end
# files first (tests/conftest.py): the quick build (built once, shared by every test of
# tests/test_workflow.py) fills one core while the SLURM run, the kill-and-resume runs and
# the unit tests fill the other; the slowest tests are listed.
PYTEST := $(BIN)/python -m pytest -n 2 --dist loadfile --durations=15

test: venv tex
	$(PYTEST)

test-fast: venv
	$(PYTEST) -m "not slow and not slurm"

bench: venv
	$(BIN)/python benchmarks/run_all.py

# ruff, and Snakemake's own lints but the per-rule "conda environment or container" one (the
# jobs run in the pinned .venv, not in per-rule environments).
lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	@lints=$$($(BIN)/snakemake --lint 2>&1 | grep '^    \* ' | grep -v 'Specify a conda environment or container'); \
	if [ -n "$$lints" ]; then echo "snakemake --lint:"; echo "$$lints"; exit 1; fi; echo "snakemake --lint: clean"

format: venv
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# Re-pin after changing a version in requirements.txt by hand: regenerates the full lock.
lock: venv
	{ sed -n '1,3p' requirements.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -vi '^neural-tangents==\|^mlxtend=='; } > requirements.txt.new && mv requirements.txt.new requirements.txt

clean:
	rm -rf results/* .snakemake
