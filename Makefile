# bayescred: two commands set everything up and run it.
#   make demo   fit the default model on the embedded data and write the report
#   make test   run the default (fast) test suite
#   make docs   build the documentation site into site/ (offline; notebooks executed)
# Each creates or updates the virtual environment in .venv first.

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.bayescred-installed
OUT    ?= out
PYTEST_ARGS ?=
DOCS_STAMP := $(VENV)/.bayescred-docs-installed
# Run size of the notebooks executed by `make docs` (see notebooks/README.md)
DOCS_NB_DRAWS   ?= 200
DOCS_NB_TUNE    ?= 200
DOCS_NB_CHAINS  ?= 2
DOCS_NB_WORKERS ?= 300
DOCS_NB_SIMS    ?= 20
DOCS_NB_PANELS  ?= 3

.PHONY: demo test test-slow lint docs bench bench-dynamics bench-types bench-gpu bench-sampling venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml scripts/find-python.sh
	@set -e; \
	if [ -x "$(PY)" ] && ! "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "removing $(VENV): its Python is older than 3.12 or broken"; rm -rf "$(VENV)"; fi; \
	if [ ! -x "$(PY)" ]; then \
	  base=$$(scripts/find-python.sh); \
	  echo "creating $(VENV) with $$base ($$($$base --version))"; \
	  "$$base" -m venv "$(VENV)"; \
	fi; \
	"$(PY)" -m pip install --quiet --upgrade pip; \
	"$(PY)" -m pip install --quiet -e ".[dev]"; \
	touch "$(STAMP)"

demo: $(STAMP)
	$(VENV)/bin/bayescred demo --out $(OUT)

test: $(STAMP)
	$(PY) -m pytest --doctest-modules bayescred tests $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check bayescred tests benchmarks notebooks scripts
	$(VENV)/bin/ruff format --check bayescred tests benchmarks notebooks scripts
	$(VENV)/bin/mypy bayescred
	$(VENV)/bin/lint-imports
	$(PY) scripts/build_notebooks.py --check

$(DOCS_STAMP): $(STAMP)
	"$(PY)" -m pip install --quiet -e ".[docs]"
	touch "$(DOCS_STAMP)"

# Strict: a broken link or anchor, a warning or a notebook error fails the build. The notebooks
# run in the venv's python3 kernel with inline figures.
docs: $(DOCS_STAMP)
	BAYESCRED_NB_DRAWS=$(DOCS_NB_DRAWS) BAYESCRED_NB_TUNE=$(DOCS_NB_TUNE) \
	BAYESCRED_NB_CHAINS=$(DOCS_NB_CHAINS) BAYESCRED_NB_WORKERS=$(DOCS_NB_WORKERS) \
	BAYESCRED_NB_SIMS=$(DOCS_NB_SIMS) BAYESCRED_NB_PANELS=$(DOCS_NB_PANELS) \
	MPLBACKEND=module://matplotlib_inline.backend_inline NO_MKDOCS_2_WARNING=1 \
	JUPYTER_PATH="$(CURDIR)/$(VENV)/share/jupyter" \
	$(VENV)/bin/mkdocs build --strict

bench: $(STAMP)
	$(PY) benchmarks/bench_gradient.py --graph --backends nutpie $(BENCH_ARGS)
	$(PY) benchmarks/bench_gradient.py --backends nutpie --sizes 1M --types 200 $(BENCH_ARGS)

# the JAX route on one accelerator: 10k to 10M rows in under 8 minutes (needs jax[cuda12] on a
# GPU box; on a CPU it runs there); BENCH_ARGS=--smoke for a quick CPU check
BENCH_ARGS ?=
bench-gpu: $(STAMP)
	$(PY) benchmarks/bench_gpu_sweep.py $(BENCH_ARGS)

# the event-time model against the static one on 1M input rows (gradient and fit wall times)
bench-dynamics: $(STAMP)
	$(PY) benchmarks/bench_gradient.py --backends nutpie --sizes 1M --dynamics 3 6 --fit $(BENCH_ARGS)

# credential types: the typed spec against the static one on the same 1M-row panel with 200
# types (gradient and fit wall times; the criterion is a ratio of at most 2)
bench-types: $(STAMP)
	$(PY) benchmarks/bench_gradient.py --backends nutpie --sizes 1M --types 200 --fit $(BENCH_ARGS)

bench-sampling: $(STAMP)
	$(PY) benchmarks/bench_within_vs_latent.py

clean:
	rm -rf $(VENV) $(OUT) site .pytest_cache .mypy_cache .ruff_cache
