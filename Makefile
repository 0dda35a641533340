# The PRIME book: `make book` builds the HTML book, `make test` runs every test.
# Both create .venv and install everything on first use (and again when pyproject.toml changes).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch available on the project's machines; an unpinned install pulls a multi-GB
# CUDA build. Keep the pin in every pip call. Override for a GPU machine: make book TORCH_PIN=torch
TORCH_PIN ?= torch==2.13.0
STAMP  := $(VENV)/.installed

.PHONY: help setup book test lab bench timings clean distclean

help:
	@echo "make book   build the book (executes every notebook) -> _build/html/index.html"
	@echo "make test   run the unit tests and build the book in the tiny profile with -W"
	@echo "make lab    open JupyterLab on book/"
	@echo "make bench  print primekit's speed benchmark and its comparison with snnTorch and SpikingJelly"
	@echo "make timings time a cold and a warm book build (writes book/timings.json)"
	@echo "make clean  delete builds and data/cache (data/raw is kept)"

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[book,dev,bench]" "$(TORCH_PIN)"
	@touch $@

# Rendered pages get one summary line per long loop instead of progress-bar states, and no cache messages.
book: $(STAMP)
	PRIMEKIT_PROGRESS=$${PRIMEKIT_PROGRESS:-summary} PRIMEKIT_LOG=$${PRIMEKIT_LOG:-warning} \
	  $(BIN)/jupyter-book build --all .
	@echo "The book is at: $(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab book/

# The comparison with snnTorch and SpikingJelly uses the optional bench extra (setup installs it, torch pinned).
bench: $(STAMP)
	$(BIN)/python -m primekit bench
	$(BIN)/python -m primekit bench --compare

# Cold and warm build of the book on a fresh data root; writes book/timings.json and the README's table.
timings: $(STAMP)
	$(BIN)/python -m primekit build-timings

clean:
	rm -rf _build data/cache .jupyter_cache .pytest_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
