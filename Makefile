# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run   -> create .venv if missing, install, start the terminal on the emulator
#   make test  -> same set-up, run the whole suite headless
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench clean screenshot

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m terminal $(ARGS)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(ARGS)

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) tests/bench/run_all.py

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m terminal --screenshot docs/screenshot.png --exit-after 15

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
