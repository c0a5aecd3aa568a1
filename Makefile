# Two commands matter on a fresh machine: `make demo` and `make test`. Both create the environment they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# ------------------------------------------------------------------ dependencies: every environment from a lock
# Every environment below installs exactly what a committed lock says, with hashes, on any day (docs/development.md):
#   uv.lock                          .venv (the package, its dev extras), the mutation extra, the runtime stand-in
#   layers/runtime/requirements.txt  the Lambda layer: exported from uv.lock (make lock), never typed by hand
#   requirements/{sam,checkov}.txt   .venv-sam and .venv-checkov: tools that pin their own dependencies
#   requirements/uv.txt              uv itself, installed with the machine's pip into .uv
# `make lock` refreshes them all deliberately; `make lock-check` (part of make test) fails when one is stale.
UV_DIR := .uv
UV := $(UV_DIR)/bin/uv
UV_STAMP := $(UV_DIR)/.installed-stamp
# The interpreters are the machine's ($(PYTHON), and CPython 3.13 for the function's runtime): uv never downloads one.
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1
# What the Lambda python3.13 runtime provides: the layer must not ship a copy that would shadow it (devkit/built.py).
RUNTIME_PROVIDED := boto3 botocore s3transfer jmespath python-dateutil six
LAYER_REQUIREMENTS := layers/runtime/requirements.txt
LAYER_EXPORT = $(UV) export --locked --no-dev --no-emit-project $(RUNTIME_PROVIDED:%=--no-emit-package %) \
	--format requirements-txt
# Tool locks: universal (any OS and machine), for Python 3.11 and later, the versions $(PYTHON) may be.
TOOL_COMPILE = $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes --no-header
GENERATED_HEADER = \# Generated from $(1) by make lock (uv); do not edit by hand.

.PHONY: help venv demo sandbox test lint typecheck cfn-lint unit stress clean bench-reconcile lock lock-export lock-check

# `make help` prints every target that has a `## what it does` comment (tests/unit/test_docs_commands.py checks that
# every target has one).
help: ## list every target (this)
	@echo "On a fresh machine: make demo, then make test. Every target:"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_.-]+:[^=]*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(UV_STAMP): requirements/uv.txt
	rm -rf $(UV_DIR)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes --target $(UV_DIR) \
	  --requirement requirements/uv.txt
	touch $(UV_STAMP)

# --locked: uv.lock must match pyproject.toml (a stale lock fails here, it is never re-resolved behind your back).
$(STAMP): pyproject.toml uv.lock $(UV_STAMP)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --extra dev --python $(PYTHON)
	touch $(STAMP)

venv: $(STAMP) ## create .venv (Python 3.11+, the package with its dev extras, from uv.lock); every target does it first

lock: $(UV_STAMP) ## refresh every lock (uv.lock, the layer's requirements, the tools'): newest versions, then review
	$(UV) lock --upgrade
	$(MAKE) --no-print-directory lock-export
	for tool in uv sam checkov; do \
	  { echo "$(call GENERATED_HEADER,requirements/$$tool.in)"; \
	    $(TOOL_COMPILE) --upgrade requirements/$$tool.in; } > requirements/$$tool.txt.new && \
	  mv requirements/$$tool.txt.new requirements/$$tool.txt || exit 1; \
	done

lock-export: $(UV_STAMP) ## write the layer's requirements.txt from uv.lock (the same resolution the tests run)
	{ echo "$(call GENERATED_HEADER,uv.lock)"; $(LAYER_EXPORT) --no-header; } > $(LAYER_REQUIREMENTS).new
	mv $(LAYER_REQUIREMENTS).new $(LAYER_REQUIREMENTS)

lock-check: $(UV_STAMP) ## fail if a lock is stale: uv.lock against pyproject.toml, the layer's export against uv.lock
	$(UV) lock --check --offline
	{ echo "$(call GENERATED_HEADER,uv.lock)"; $(LAYER_EXPORT) --no-header; } | diff -u $(LAYER_REQUIREMENTS) - \
	  || { echo "$(LAYER_REQUIREMENTS) is not what uv.lock says: run make lock-export" >&2; exit 1; }

demo: $(STAMP) ## the Lambda handler against an in-memory ECR: replays events/, prints the index it writes
	$(BIN)/python -m devkit.demo

sandbox: $(STAMP) ## serve the in-memory ECR on 127.0.0.1 (seeded; prints the export lines) until Ctrl-C
	$(BIN)/ecr-multiarch sandbox

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

typecheck: $(STAMP) ## mypy (strict)
	$(BIN)/mypy

cfn-lint: $(STAMP) ## cfn-lint template.yaml
	$(BIN)/cfn-lint template.yaml

stress: $(STAMP) ## reliability figures: duplicates, races, faults, fuzzed events
	$(BIN)/python -m devkit.stress

unit: $(STAMP) ## the unit tests only (seconds)
	$(BIN)/python -m pytest tests/unit -q

test: lock-check lint typecheck cfn-lint ## everything CI runs: lint, types, sam validate + sam build, checkov, every test (needs CPython 3.13)
	$(BIN)/python -m pytest

clean: ## remove .venv, .uv, .venv-sam, .aws-sam and the tools' caches
	rm -rf $(VENV) $(UV_DIR) .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis

# ------------------------------------------------------------------ packaging: SAM validate/build, smoke test, bench
# aws-sam-cli pins its own boto3, so it gets its own virtual environment. sam build runs layers/runtime/Makefile and
# functions/assembler/Makefile (BuildMethod: makefile, no container), which need CPython 3.13, the function's
# runtime, to compile the bytecode they ship.
.PHONY: sam-venv sam-validate sam-build runtime-standin build-smoke bench python313 clean-sam deploy

SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.installed-stamp
SAM := $(SAM_VENV)/bin/sam
# Local only: no telemetry, and no AWS call (sam validate --lint is cfn-lint; sam build asks for a region, no more).
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
BUILD_DIR := .aws-sam/build
# The Lambda runtime provides boto3 (the layer does not ship it) and its runtime interface client: tests/packaging and
# the bench run the built function and layer on a bare CPython 3.13 with this stand-in behind them, from uv.lock's
# group lambda-runtime (boto3 at the dev environment's version, awslambdaric for the Runtime Interface Emulator).
RUNTIME_STANDIN := .aws-sam/runtime-standin
RUNTIME_STAMP := $(RUNTIME_STANDIN)/.installed-stamp

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

python313: ## find CPython 3.13 (sam build needs it); override with make PYTHON313=/path/to/python3.13
	@test -n "$(PYTHON313)" && "$(PYTHON313)" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null || { \
	  echo "error: no working python3.13 (PYTHON313='$(PYTHON313)'; looked at: $(strip $(PYTHON313_CANDIDATES)))." \
	  "sam build compiles the function and layer bytecode for the python3.13 runtime and needs CPython 3.13:" \
	  "install it (e.g. 'pyenv install 3.13') or run 'make PYTHON313=/path/to/python3.13 ...'." >&2; exit 1; }
	@echo "python3.13: $(PYTHON313)"

$(SAM_STAMP): requirements/sam.txt $(UV_STAMP)
	rm -rf $(SAM_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(SAM_VENV)
	$(UV) pip sync --quiet --require-hashes --python $(SAM_VENV)/bin/python requirements/sam.txt
	touch $(SAM_STAMP)

sam-venv: $(SAM_STAMP) ## create .venv-sam with aws-sam-cli (its own boto3 pins)

sam-validate: $(SAM_STAMP) ## sam validate --lint template.yaml
	$(SAM_ENV) $(SAM) validate --lint --template-file template.yaml

sam-build: $(SAM_STAMP) python313 ## sam build into .aws-sam/build: arm64, Python 3.13, no container
	$(SAM_ENV) PYTHON313="$(PYTHON313)" PATH="$(dir $(PYTHON313)):$$PATH" \
	  $(SAM) build --template-file template.yaml --build-dir $(BUILD_DIR)

$(RUNTIME_STAMP): uv.lock $(UV_STAMP) | python313
	rm -rf $(RUNTIME_STANDIN) $(RUNTIME_STANDIN).txt
	mkdir -p $(dir $(RUNTIME_STANDIN))
	$(UV) export --quiet --locked --only-group lambda-runtime --no-emit-project --format requirements-txt \
	  --output-file $(RUNTIME_STANDIN).txt
	$(UV) pip install --quiet --require-hashes --no-deps --only-binary :all: --python "$(PYTHON313)" \
	  --target $(RUNTIME_STANDIN) --requirement $(RUNTIME_STANDIN).txt
	touch $(RUNTIME_STAMP)

runtime-standin: $(RUNTIME_STAMP) ## boto3 + awslambdaric for CPython 3.13, standing in for the Lambda runtime's

# The built artefacts, imported and run on a bare CPython 3.13 (tests/packaging); also part of `make test`.
build-smoke: $(STAMP) sam-build runtime-standin ## sam build, then tests/packaging on what was built
	ECR_MULTIARCH_REQUIRE_BUILD=1 PYTHON313="$(PYTHON313)" $(BIN)/python -m pytest tests/packaging -q

# `make test` also validates the template with SAM, builds it, and runs tests/packaging on what was built.
test: sam-validate sam-build runtime-standin
test: export ECR_MULTIARCH_REQUIRE_BUILD := 1

bench: $(STAMP) sam-build runtime-standin ## ECR calls per scenario, cold import, peak RSS, CPU per event, zip sizes
	PYTHON313="$(PYTHON313)" $(BIN)/python -m benchmarks.bench --build-dir $(BUILD_DIR)

clean: clean-sam
clean-sam: ## remove .venv-sam and .aws-sam
	rm -rf $(SAM_VENV) .aws-sam

# One reconcile of a 10,000-tag repository in the fake ECR: ECR calls made vs the goal, and wall time (~2 min).
bench-reconcile: $(STAMP) ## one sweep of a 10,000-tag repository in the fake ECR: ECR calls vs goal, wall time
	$(BIN)/python -m benchmarks.reconcile_10k

# ------------------------------------------------------------------ IaC security scan
# checkov pins its own dependency tree (and an older boto3 than ours), so it gets its own virtual environment, like
# aws-sam-cli. Every check it skips is justified next to the resource (Metadata: checkov: skip: id + comment).
.PHONY: checkov checkov-venv
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-stamp

$(CHECKOV_STAMP): requirements/checkov.txt $(UV_STAMP)
	rm -rf $(CHECKOV_VENV)
	$(UV) venv --quiet --python $(PYTHON) $(CHECKOV_VENV)
	$(UV) pip sync --quiet --require-hashes --python $(CHECKOV_VENV)/bin/python requirements/checkov.txt
	touch $(CHECKOV_STAMP)

checkov-venv: $(CHECKOV_STAMP) ## install checkov into .venv-checkov

# Local only: no Bridgecrew/Prisma platform call, no version check; fails on any failed check.
checkov: $(CHECKOV_STAMP) ## IaC security scan of template.yaml (checkov, every skip justified in the template)
	BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false $(CHECKOV_VENV)/bin/checkov --quiet --compact \
	  --framework cloudformation --skip-download --file template.yaml

test: checkov

clean: clean-checkov
clean-checkov: ## remove .venv-checkov
	rm -rf $(CHECKOV_VENV)

# Deploy: sam build, then `sam deploy --guided` from .venv-sam (it asks for the stack name, the region and the
# template's parameters, and can save them to samconfig.toml). Uses your AWS configuration (AWS_PROFILE, AWS_REGION).
deploy: sam-build ## sam build, then sam deploy --guided (from .venv-sam; needs AWS credentials)
	SAM_CLI_TELEMETRY=0 $(SAM) deploy --guided --template-file $(BUILD_DIR)/template.yaml

# ------------------------------------------------------------------ mutation score of the core (docs/mutation.md)
# Not part of `make test`: it runs the fast tests once per mutant (tens of minutes). `make mutate MUTANTS='glob ...'`
# runs only those mutants again and keeps the other results; `make mutate-resume` goes on after a stop;
# `make mutate-survivors` runs the undetected ones again; `make mutate-report` prints the last results.
.PHONY: mutate mutate-resume mutate-survivors mutate-report clean-mutation
MUTMUT_STAMP := $(VENV)/.installed-mutmut
MUTANTS ?=

$(MUTMUT_STAMP): $(STAMP)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --quiet --locked --extra dev --extra mutation --python $(PYTHON)
	touch $(MUTMUT_STAMP)

mutate: $(MUTMUT_STAMP) ## mutation score of the core (mutmut; tens of minutes; not in make test)
	$(BIN)/python mutation/run.py $(MUTANTS)

mutate-resume: $(MUTMUT_STAMP) ## go on with an interrupted make mutate (keeps every result so far)
	$(BIN)/python mutation/run.py --resume

mutate-survivors: $(MUTMUT_STAMP) ## run every mutant not detected yet: survivors (after new tests) and unchecked
	$(BIN)/python mutation/run.py --survivors

mutate-report: $(MUTMUT_STAMP) ## print the last make mutate results again
	$(BIN)/python mutation/run.py --report-only

clean: clean-mutation
clean-mutation: ## remove the mutation workspace (.mutation)
	rm -rf .mutation
