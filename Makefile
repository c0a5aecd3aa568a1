# Two commands matter on a fresh machine: `make demo` and `make test`. Both create the environment they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help venv demo test lint typecheck cfn-lint unit clean bench-reconcile

help:
	@echo "make demo   - run the Lambda handler against an in-memory ECR and print the index it writes"
	@echo "make test   - lint, type-check, validate template.yaml and run every test"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m devkit.demo

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test: lint typecheck cfn-lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

# One reconcile of a 10,000-tag repository in the fake ECR: ECR calls made vs the goal, and wall time (~2 min).
bench-reconcile: $(STAMP)
	$(BIN)/python -m benchmarks.reconcile_10k
