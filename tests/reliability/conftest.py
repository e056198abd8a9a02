"""The long reliability scenarios (RELIABILITY.md) run only under `make reliability` (RELIABILITY=1)."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    if os.environ.get("RELIABILITY") == "1":
        return
    skip = pytest.mark.skip(reason="long reliability scenario: run with `make reliability`")
    for item in items:
        if "tests/reliability/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)
