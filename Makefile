# Two commands set everything up from a fresh clone:
#   make book   - create .venv if missing, install the pinned requirements, build the book
#   make test   - the same set-up, then every test (unit tests, strict nbval of every chapter, the book build)
#   make lab    - the same set-up, then JupyterLab on chapters/ (to run and change the chapters yourself);
#                 options go to jupyter, e.g. make lab LAB_ARGS="--no-browser --port=8890"
# For authors:
#   make chapters [CHAPTERS=chapters/03_exact_recovery.ipynb]  - re-execute chapters from their text sources
#   make check-repro  - strict nbval under other BLAS kernels, SIMD dispatch and thread counts (not CI)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test lab chapters check-repro clean

CHAPTERS ?= $(sort $(wildcard chapters/0*.ipynb)) chapters/quickstart.ipynb

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(PY) -m pytest

lab: $(STAMP)
	$(VENV)/bin/jupyter lab chapters/ $(LAB_ARGS)

# Each chapter's text source is chapters/text/NAME.md (MyST, paired by jupytext). Update the notebook's
# inputs from it (outputs are kept until the run replaces them), then run it from a clean kernel with
# one BLAS thread, as the tests do.
chapters: $(STAMP)
	@for nb in $(CHAPTERS); do \
	  md=chapters/text/$$(basename $$nb .ipynb).md; \
	  echo "$$md -> $$nb"; \
	  $(VENV)/bin/jupytext --quiet --update --to ipynb --output $$nb $$md || exit 1; \
	  OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} \
	    $(VENV)/bin/jupyter execute --inplace $$nb || exit 1; \
	done

check-repro: $(STAMP)
	$(PY) scripts/check_repro.py

clean:
	rm -rf _build
