# skmtl developer tasks. Needs only python3 (with the venv module) and make.
#
#   make demo      create .venv if needed (the core install only), then run the demo
#   make test      create .venv if needed (core + the dev, sentence and plot extras), run the tests
#   make lint      ruff check
#   make examples  run every examples/*.py
#   make fuzz      the fuzz suite (tests/test_fuzz.py) with its long hypothesis profile
#   make docs      the documentation site (docs/_build/html), warnings as errors
#   make docs-check  make docs, then check the site in headless Chromium
#
# torch is installed before skmtl: the CPU build from the PyTorch CPU index unless
# nvidia-smi is found (then the default, CUDA, build from PyPI). A plain
# `pip install torch` on a CPU-only Linux machine would download a multi-GB CUDA build.
# The CPU wheel is installed with --no-deps so that only torch itself is looked up on the
# PyTorch index; its small dependencies (filelock, sympy, ...) come from PyPI in the next
# step, which resolves the dependencies of the already installed torch.

PYTHON ?= python3
VENV ?= .venv
TORCH_CPU_VERSION ?= 2.13.*
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

VPY := $(VENV)/bin/python
PIP := $(VPY) -m pip
TORCH_STAMP := $(VENV)/.skmtl-torch
CORE_STAMP := $(VENV)/.skmtl-core
DEV_STAMP := $(VENV)/.skmtl-dev
DOCS_STAMP := $(VENV)/.skmtl-docs

.PHONY: demo test lint examples fuzz docs docs-check

demo: $(CORE_STAMP)
	$(VPY) -m skmtl.demo

test: $(DEV_STAMP)
	$(VPY) -m pytest -q

lint: $(DEV_STAMP)
	$(VPY) -m ruff check .

fuzz: $(DEV_STAMP)
	SKMTL_FUZZ_PROFILE=fuzz $(VPY) -m pytest -q tests/test_fuzz.py

examples: $(DEV_STAMP)
	@set -e; found=0; for f in examples/*.py; do \
	  [ -e "$$f" ] || continue; found=1; \
	  echo "== $$f"; $(VPY) "$$f"; \
	done; [ $$found = 1 ] || echo "no examples/*.py found"

$(TORCH_STAMP):
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@if command -v nvidia-smi >/dev/null 2>&1; then \
	  echo "nvidia-smi found: installing the default (CUDA) torch build"; \
	  $(PIP) install "torch>=2.2"; \
	else \
	  echo "no nvidia-smi: installing the CPU torch build $(TORCH_CPU_VERSION)"; \
	  $(PIP) install --no-deps "torch==$(TORCH_CPU_VERSION)" --extra-index-url $(TORCH_CPU_INDEX); \
	fi
	@touch $@

# The core install: skmtl and its core dependencies, nothing optional (no transformers).
$(CORE_STAMP): $(TORCH_STAMP) pyproject.toml
	$(PIP) install -e .
	@touch $@

# What the tests need: the dev tools and the optional features they test.
$(DEV_STAMP): $(CORE_STAMP) pyproject.toml
	$(PIP) install -e ".[dev,sentence,plot]"
	@touch $@

$(DOCS_STAMP): $(DEV_STAMP) pyproject.toml
	$(PIP) install -e ".[docs]"
	@touch $@

# The documentation site (docs/_build/html): Sphinx with warnings as errors; the examples
# gallery runs every example (one thread each, matplotlib without a display).
docs: $(DOCS_STAMP)
	MPLBACKEND=Agg OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	  $(VPY) -m sphinx -W --keep-going -b html docs docs/_build/html

# The built site in headless Chromium: links, images, page errors, two screenshots
# (docs/_build/screenshots). Needs Debian's chromium and chromium-driver (installed here
# if missing; apt-get needs root).
docs-check: docs
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	$(VPY) docs/_check_site.py
