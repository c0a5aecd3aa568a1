# Two commands matter on a fresh machine: `make demo` and `make test`. Both create the environment they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: help venv demo test lint typecheck cfn-lint unit stress clean bench-reconcile

help:
	@echo "make demo   - run the Lambda handler against an in-memory ECR and print the index it writes"
	@echo "make test   - lint, type-check, validate template.yaml and run every test"
	@echo "make stress - print the reliability figures: duplicates, races, faults, fuzzed events"
	@echo "make bench  - ECR calls per scenario, cold import, peak RSS, CPU per event, zip sizes (see README)"
	@echo "make sam-build - sam build (arm64, Python 3.13, no container) into .aws-sam/build"

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

stress: $(STAMP)
	$(BIN)/python -m devkit.stress

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

test: lint typecheck cfn-lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

# ------------------------------------------------------------------ packaging: SAM validate/build, smoke test, bench
# aws-sam-cli pins its own boto3, so it gets its own virtual environment. sam build runs layers/runtime/Makefile and
# functions/assembler/Makefile (BuildMethod: makefile, no container), which need CPython 3.13, the function's
# runtime, to compile the bytecode they ship.
.PHONY: sam-venv sam-validate sam-build runtime-standin build-smoke bench python313 clean-sam

SAM_CLI_VERSION := 1.170.0
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)
SAM := $(SAM_VENV)/bin/sam
# Local only: no telemetry, and no AWS call (sam validate --lint is cfn-lint; sam build asks for a region, no more).
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
BUILD_DIR := .aws-sam/build
# The Lambda runtime provides boto3 (the layer does not ship it): tests/packaging and the bench import the built function
# and layer on a bare CPython 3.13 with this stand-in behind them. Same version as the dev pin in pyproject.toml.
RUNTIME_BOTO3_VERSION := 1.43.11
RUNTIME_STANDIN := .aws-sam/runtime-standin
RUNTIME_STAMP := $(RUNTIME_STANDIN)/.installed-boto3-$(RUNTIME_BOTO3_VERSION)

# CPython 3.13, looked up once and only when needed: the first candidate that really runs 3.13 (a pyenv shim for a
# version that is installed but not selected exists and fails). Override with `make PYTHON313=/path/to/python3.13`.
PYTHON313_CANDIDATES = $(shell command -v python3.13 2>/dev/null) \
	$(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13 \
	           /root/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13)
find_python313 = $(firstword $(foreach candidate,$(PYTHON313_CANDIDATES),$(shell "$(candidate)" -c \
	'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && echo "$(candidate)")))
ifndef PYTHON313
PYTHON313 = $(eval PYTHON313 := $(call find_python313))$(PYTHON313)
endif

python313:
	@test -n "$(PYTHON313)" && "$(PYTHON313)" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null || { \
	  echo "error: no working python3.13 (PYTHON313='$(PYTHON313)'; looked at: $(strip $(PYTHON313_CANDIDATES)))." \
	  "sam build compiles the function and layer bytecode for the python3.13 runtime and needs CPython 3.13:" \
	  "install it (e.g. 'pyenv install 3.13') or run 'make PYTHON313=/path/to/python3.13 ...'." >&2; exit 1; }
	@echo "python3.13: $(PYTHON313)"

$(SAM_STAMP):
	rm -rf $(SAM_VENV)
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==$(SAM_CLI_VERSION)
	touch $(SAM_STAMP)

sam-venv: $(SAM_STAMP)

sam-validate: $(SAM_STAMP)
	$(SAM_ENV) $(SAM) validate --lint --template-file template.yaml

sam-build: $(SAM_STAMP) python313
	$(SAM_ENV) PYTHON313="$(PYTHON313)" PATH="$(dir $(PYTHON313)):$$PATH" \
	  $(SAM) build --template-file template.yaml --build-dir $(BUILD_DIR)

$(RUNTIME_STAMP): | python313
	rm -rf $(RUNTIME_STANDIN)
	PIP_ROOT_USER_ACTION=ignore $(PYTHON313) -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
	  --target $(RUNTIME_STANDIN) boto3==$(RUNTIME_BOTO3_VERSION)
	touch $(RUNTIME_STAMP)

runtime-standin: $(RUNTIME_STAMP)

# The built artefacts, imported and run on a bare CPython 3.13 (tests/packaging); also part of `make test`.
build-smoke: $(STAMP) sam-build runtime-standin
	ECR_MULTIARCH_REQUIRE_BUILD=1 PYTHON313="$(PYTHON313)" $(BIN)/python -m pytest tests/packaging -q

# `make test` also validates the template with SAM, builds it, and runs tests/packaging on what was built.
test: sam-validate sam-build runtime-standin
test: export ECR_MULTIARCH_REQUIRE_BUILD := 1

bench: $(STAMP) sam-build runtime-standin
	PYTHON313="$(PYTHON313)" $(BIN)/python -m benchmarks.bench --build-dir $(BUILD_DIR)

clean: clean-sam
clean-sam:
	rm -rf $(SAM_VENV) .aws-sam

# One reconcile of a 10,000-tag repository in the fake ECR: ECR calls made vs the goal, and wall time (~2 min).
bench-reconcile: $(STAMP)
	$(BIN)/python -m benchmarks.reconcile_10k

# ------------------------------------------------------------------ mutation score of the core (docs/mutation.md)
# Not part of `make test`: it runs the fast tests once per mutant (tens of minutes). `make mutate MUTANTS='glob ...'`
# runs only those mutants again and keeps the other results; `make mutate-report` prints the last results.
.PHONY: mutate mutate-report clean-mutation
MUTMUT_STAMP := $(VENV)/.installed-mutmut
MUTANTS ?=

$(MUTMUT_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,mutation]'
	touch $(MUTMUT_STAMP)

mutate: $(MUTMUT_STAMP)
	$(BIN)/python mutation/run.py $(MUTANTS)

mutate-report: $(MUTMUT_STAMP)
	$(BIN)/python mutation/run.py --report-only

clean: clean-mutation
clean-mutation:
	rm -rf .mutation
