# Every target that needs Python depends on .venv, so a fresh clone needs nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: .venv demo test lint typecheck imports unit pytest bench contract clean

.venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,emulator]'
	touch $(STAMP)

# The bot's main job on the bundled demo estate: first a dry run (exit 2: changes pending),
# then the real run, which applies, plans again and exits 0 only when nothing is left to fix.
demo: .venv
	$(BIN)/remediator run --dry-run --estate demo; code=$$?; [ $$code -eq 2 ] || [ $$code -eq 0 ]
	$(BIN)/remediator run --estate demo

lint: .venv
	$(BIN)/ruff check remediator playbooks tests
	$(BIN)/ruff format --check remediator playbooks tests

typecheck: .venv
	$(BIN)/mypy

imports: .venv
	$(BIN)/lint-imports

pytest: .venv
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) --doctest-modules remediator playbooks tests

test: lint typecheck imports pytest

bench: .venv
	$(BIN)/python -m tests.bench.run

contract: .venv
	$(BIN)/pytest -q tests/contract $(if $(EXAMPLES),--examples=$(EXAMPLES))

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
