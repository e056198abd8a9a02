"""Shared fixtures: a served emulator (real HTTPS, throwaway CA) per test, shut down afterwards.

def test_x(emulator_factory):
    served = emulator_factory(estate_dict, provider_registration_polls=1)
    client = ResourceManagementClient(served.credential(), sub, **served.client_kwargs())
    served.emulator.get(resource_id)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import time_machine

from remediator.emulator import Emulator, Endpoint


@dataclass(frozen=True)
class Served:
    """An emulator serving over HTTPS, and how the unmodified SDK reaches it."""

    emulator: Emulator
    endpoint: Endpoint

    def credential(self) -> Any:
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            self.endpoint.tenant_id,
            self.endpoint.client_id,
            self.endpoint.client_secret,
            authority=self.endpoint.authority,
            disable_instance_discovery=True,
            connection_verify=self.endpoint.ca_path,
        )

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any azure-mgmt client: endpoint, scope, CA, fast polling."""
        return {
            "base_url": self.endpoint.url,
            "credential_scopes": [f"{self.endpoint.url}/.default"],
            "connection_verify": self.endpoint.ca_path,
            "polling_interval": 0,
        }

    def arm(self, method: str, path: str, **kwargs: Any) -> Any:
        """A raw ARM call with a valid bearer token (``requests.Response``), for shapes the SDK hides."""
        import requests

        token = self.credential().get_token(f"{self.endpoint.url}/.default").token
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return requests.request(
            method, f"{self.endpoint.url}{path}", headers=headers, verify=self.endpoint.ca_path, timeout=30, **kwargs
        )


# `make test` runs the suite a second time with the wall clock moved far from the fixtures' dates
# (see the Makefile's `clock` target): a test whose outcome depends on the real date fails there.
SHIFTED_CLOCK_VARIABLE = "REMEDIATOR_TEST_CLOCK"


@pytest.fixture(autouse=True, scope="session")
def shifted_wall_clock() -> Iterator[datetime | None]:
    """Every clock of the process (datetime, time, threads) starts at $REMEDIATOR_TEST_CLOCK and ticks on."""
    value = os.environ.get(SHIFTED_CLOCK_VARIABLE)
    if not value:
        yield None
        return
    destination = datetime.fromisoformat(value)
    with time_machine.travel(destination, tick=True):
        yield destination


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot's own variables from the developer's shell (a REMEDIATOR_CONFIG, an endpoint) never leak in."""
    for name in list(os.environ):
        if name.startswith("REMEDIATOR_") and name != SHIFTED_CLOCK_VARIABLE:
            monkeypatch.delenv(name)


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Served]]:
    """A function: estate (dict, path or bundled name) + knob overrides -> a served emulator.

    At teardown it fails the test if any emulator handler raised (a bug answered with a 500).
    """
    started: list[Emulator] = []
    with ExitStack() as stack:

        def start(estate: Mapping[str, Any] | str, **knobs: Any) -> Served:
            emulator = Emulator.load(dict(estate) if isinstance(estate, Mapping) else estate, **knobs)
            endpoint = stack.enter_context(emulator.serve())
            started.append(emulator)
            return Served(emulator, endpoint)

        yield start
    for emulator in started:
        assert not emulator.handler_errors, f"emulator handler errors: {emulator.handler_errors}"
