# edgewatch's entry points. Every target creates .venv first when it is missing or stale,
# so a fresh clone needs nothing but `make demo` or `make test`.

PYTHON  ?= python3
# rustup's cargo, for the native ingest core, when a login shell has not put it on PATH.
export PATH := $(HOME)/.cargo/bin:$(PATH)
VENV    := .venv
PY      := $(VENV)/bin/python
STACK   := $(PY) deploy/local/stack.py
# Written by `stack.py up --mark` only when it started something; `down --only-marked`
# then stops exactly that, so a stack you started yourself is left running.
TEST_MARK := .edgewatch/stack/started-by-make-test

.DEFAULT_GOAL := help
.PHONY: help venv lock audit stack-up stack-down stack-status lint typecheck unit integration \
	test faults demo clean bench-ingest bench-rules bench-core corpus-coverage fuzz-deep

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: $(VENV)/.installed  ## create .venv with edgewatch and its dev tools

# setup.py builds the native ingest core from native/ with cargo, into
# pipeline/ingest/_native.*.so: any change to the crate rebuilds it.
#
# The dependencies come from requirements.lock only, every file checked against its hash;
# edgewatch itself then goes in with --no-deps, so nothing unlocked comes along with it.
$(VENV)/.installed: pyproject.toml requirements.lock setup.py \
		$(wildcard native/Cargo.*) $(shell find native/src -name '*.rs')
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	@# Earlier builds compiled Python modules with mypyc, beside their sources: an old
	@# compiled module would still be imported instead of its source, or in place of a
	@# source since deleted. Only the native core is built in place now.
	@find . -maxdepth 1 -name '*__mypyc.*.so' -delete
	@find pipeline -name '*.so' ! -name '_native.*' -delete
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# One lock for the image, CI and every developer: pyproject.toml's dependencies and its dev
# extra, pinned for Python 3.11+ on any platform, with the hashes of every published file.
# Run it after changing a dependency in pyproject.toml, and commit requirements.lock.
# --no-strip-extras: a package wanted with an extra (pip-audit's CacheControl[filecache]) must
# be pinned with that extra, or pip's --require-hashes mode treats it as unpinned and reaches
# for the newest release on the index.
LOCK_CMD := $(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
	--python-version 3.11 --custom-compile-command "make lock" --no-strip-extras --quiet \
	-o requirements.lock
lock:  ## re-resolve requirements.lock from pyproject.toml (hashes); add UPGRADE=1 to update all
	@test -x $(VENV)/bin/uv || { test -x $(PY) || $(PYTHON) -m venv $(VENV); \
		$(PY) -m pip install --quiet uv; }
	$(LOCK_CMD) $(if $(UPGRADE),--upgrade)

# Known vulnerabilities of every locked package (PyPI's advisory data, via pip-audit).
# A package the service could not be asked about is reported, loudly; AUDIT_STRICT=1 turns
# that into a failure (for machines that reach the service).
audit: venv  ## pip-audit over requirements.lock
	@$(PY) deploy/audit.py requirements.lock

stack-up: venv  ## start the local Kafka + Elasticsearch (idempotent)
	@$(STACK) up

stack-down: venv  ## stop the local stack started by stack-up
	@$(STACK) down

stack-status: venv  ## show whether the local stack is up
	@$(STACK) status

lint: venv  ## ruff and cargo lint and format checks, and the shipped rules against their schema
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	cd native && cargo fmt --check && cargo clippy --quiet --release --all-targets -- -D warnings
	$(VENV)/bin/edgewatch rules validate rules/

typecheck: venv  ## mypy (strict on pipeline/)
	$(PY) -m mypy

unit: venv  ## unit tests only (no servers), the native core's own included
	cd native && cargo test --quiet --release
	$(PY) -m pytest -m unit

integration: venv  ## integration tests only (starts the stack if needed)
	@$(MAKE) --no-print-directory _with-stack PYTEST_ARGS="-m integration"

# The whole suite includes the fault cases (tests/faults/, marker `faults`) at their small
# scale: a few minutes of outages, kills and poison.
test: lint typecheck audit  ## the whole suite: lint, types, audit, unit, integration and fault tests
	@EDGEWATCH_FAULTS_SCALE=small $(MAKE) --no-print-directory _with-stack PYTEST_ARGS=""

# The fault cases at large scale: Elasticsearch outages of minutes, a million messages through
# a storm of SIGKILLs (about 35 minutes). EDGEWATCH_FAULTS_ES_OUTAGE_S=900 makes every
# Elasticsearch outage 15 minutes. Each case's figures are appended to
# .edgewatch/faults/results.jsonl; the table of the latest is printed at the end.
FAULTS_SCALE ?= large
faults: venv  ## the fault cases at large scale (FAULTS_SCALE=small: as make test runs them)
	@EDGEWATCH_FAULTS_SCALE=$(FAULTS_SCALE) $(MAKE) --no-print-directory _with-stack \
		PYTEST_ARGS="-m faults"; status=$$?; \
	$(PY) -m tests.faults.table --scale $(FAULTS_SCALE); exit $$status

# Run pytest against the stack, starting it first if it is down and stopping it afterwards
# only if this run started it. The trap also stops it on Ctrl-C.
_with-stack: venv
	@[ -n "$(PYTEST_ARGS)" ] || (cd native && cargo test --quiet --release)
	@$(STACK) up --mark $(TEST_MARK) || { $(STACK) down --only-marked $(TEST_MARK); exit 1; }; \
	trap '$(STACK) down --only-marked $(TEST_MARK)' EXIT INT TERM; \
	$(PY) -m pytest $(PYTEST_ARGS)

EVENTS ?= 1000000
bench-ingest: stack-up  ## ingest throughput vs Elasticsearch's ceiling, CPU, RSS, latency (EVENTS=N)
	EVENTS=$(EVENTS) $(PY) bench/ingest_bench.py

bench-core: venv  ## the ingest core alone: events per CPU-second per format, envelope and mixed (no I/O)
	$(PY) bench/core_bench.py

# What share of the corpus's real log lines (../shared/corpus/formats, or EDGEWATCH_CORPUS) get
# their own timestamp and level, per format, and how many match what their sources state. A
# report: low coverage does not fail it. `$(PY) bench/time_coverage.py --help` for the misses.
corpus-coverage: venv  ## per-format timestamp/level coverage over ../shared/corpus
	$(PY) bench/time_coverage.py

# The property tests with a large budget: hypothesis's "deep" profile over the binding, and
# proptest in the crate (make test runs both with small budgets).
fuzz-deep: venv  ## the parser and envelope property tests with a large budget (minutes)
	cd native && PROPTEST_CASES=50000 cargo test --quiet --release properties
	HYPOTHESIS_PROFILE=deep $(PY) -m pytest -q -m unit tests/unit/parsers

RULES ?= 1000
CYCLES ?= 2
LATE ?= 0
bench-rules: stack-up  ## many 1-minute rules against many events: evaluations/s, lateness (RULES=N)
	RULES=$(RULES) EVENTS=$(EVENTS) CYCLES=$(CYCLES) LATE=$(LATE) $(PY) bench/rules_bench.py

DEMO_MARK := .edgewatch/stack/started-by-make-demo
# On Ctrl-C the demo stops what it started, the stack included if it started it; when it ends
# by itself the stack stays up, so you can look at the data and the rules' history.
demo: venv  ## edge fleet -> Kafka -> Elasticsearch -> alert rules -> emails in a local inbox
	@$(STACK) up --mark $(DEMO_MARK)
	@$(VENV)/bin/edgewatch check
	@$(PY) deploy/local/demo.py; status=$$?; \
	if [ $$status -eq 130 ]; then $(STACK) down --only-marked $(DEMO_MARK); \
	else echo "The stack keeps running; stop it with: make stack-down"; fi; exit $$status

clean: stack-down  ## stop the stack and delete .edgewatch/ and .venv/
	rm -rf .edgewatch $(VENV)
