# The two commands a newcomer runs: `make demo` and `make test`. Both create .venv by themselves.
# `make demo` runs the hub live on a simulated day until Ctrl-C (`orderhub demo`);
# `make demo ARGS=--batch` is one checked run of a day; ARGS=--keep keeps the temporary folder.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/orderhub demo $(ARGS)

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/.installed
	$(BIN)/python -m bench.intake

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
