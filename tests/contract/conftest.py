"""The contract suite's ``--examples DIR`` option and the ``specs`` fixture (see spec_location.py)."""

from __future__ import annotations

import pytest

from tests.contract.spec_location import DEFAULT_FOLDER, ENV_VAR, load_specs, specs_root
from tests.contract.swagger import SpecFolder


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
