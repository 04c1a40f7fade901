# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   analyse a bundled recording (creates .venv on first use)
#   make test   run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO ?= recordings/hip_bodyweight_3x20_gyro_50hz.csv

.PHONY: demo test bench venv clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/sensorcoach analyze $(DEMO)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python analysis/benchmark.py

clean:
	rm -rf $(VENV) .pytest_cache
