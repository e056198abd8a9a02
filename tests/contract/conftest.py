"""The contract suite's ``--examples DIR`` option and the ``specs`` fixture (see spec_location.py)."""

from __future__ import annotations

import pytest

from tests.contract.spec_location import DEFAULT_FOLDER, ENV_VAR, load_specs, specs_root
from tests.contract.swagger import SpecFolder
from tests.contract.traffic import TRAFFIC_KEY


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--examples",
        action="store",
        default=None,
        metavar="DIR",
        help=f"a folder laid out like azure-rest-api-specs (default: ${ENV_VAR}, else {DEFAULT_FOLDER})",
    )


@pytest.fixture(scope="session")
def specs(request: pytest.FixtureRequest) -> SpecFolder:
    found = load_specs(specs_root(request.config))
    if isinstance(found, str):
        pytest.skip(found)
    return found


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What the recorded-traffic check covered, and what it could not (services with no swagger)."""
    report = config.stash.get(TRAFFIC_KEY, None)
    if report is None:
        return
    terminalreporter.section("recorded traffic against the REST specs")
    for line in report.summary():
        terminalreporter.write_line(line)
