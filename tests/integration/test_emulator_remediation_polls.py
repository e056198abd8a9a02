"""The ``remediation_polls`` knob: how many observing polls each state of a remediation task lasts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from azure.mgmt.policyinsights import PolicyInsightsClient
from click.testing import CliRunner

from remediator.emulator import Emulator
from remediator.emulator import cli as emulator_cli
from remediator.errors import UsageError
from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

API = "2024-10-01"


def _run(served: Served, name: str, parallel: int = 10) -> tuple[str, list[str]]:
    """Create a task over the scenario's assessment assignment; poll it until it ends."""
    client = PolicyInsightsClient(served.credential(), b.S1, **served.client_kwargs())
    body = json.dumps(
        {"properties": {"policyAssignmentId": sc.A_OLD["id"], "resourceCount": 5, "parallelDeployments": parallel}}
    )
    created = client.remediations.create_or_update_at_subscription(name, body.encode(), api_version=API)
    seen = []
    for _ in range(30):
        state = client.remediations.get_at_subscription(name, api_version=API).provisioning_state
        seen.append(state)
        if state not in ("Accepted", "Evaluating", "Running"):
            break
    return str(created.provisioning_state), seen


def _targets(served: Served, name: str) -> int:
    client = PolicyInsightsClient(served.credential(), b.S1, **served.client_kwargs())
    return len(list(client.remediations.list_deployments_at_subscription(name, api_version=API)))


@pytest.mark.parametrize("polls", [1, 3])
def test_each_state_lasts_the_configured_polls(emulator_factory: Callable[..., Served], polls: int) -> None:
    served = emulator_factory(sc.landing_zone(), remediation_polls=polls)
    created, seen = _run(served, "task")
    targets = _targets(served, "task")
    assert created == "Accepted"
    assert targets >= 2  # the scenario has several non-compliant machines under the assignment
    # Evaluating for `polls` polls, Running for `polls` polls, then one batch (all targets) per phase.
    assert seen == ["Evaluating"] * polls + ["Running"] * (2 * polls - 1) + [seen[-1]]
    assert seen[-1] in ("Succeeded", "Failed")


def test_each_deployment_batch_lasts_the_configured_polls(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone(), remediation_polls=2)
    _created, seen = _run(served, "one-at-a-time", parallel=1)
    targets = _targets(served, "one-at-a-time")
    # 2 polls Evaluating, 2 polls Running before the first batch, then 2 polls per one-machine batch.
    assert seen.count("Evaluating") == 2
    assert seen.count("Running") == 2 + 2 * targets - 1
    assert seen[-1] in ("Succeeded", "Failed")


def test_zero_polls_runs_the_task_when_it_is_accepted(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone(), remediation_polls=0)
    created, seen = _run(served, "at-once")
    assert created == "Accepted"  # the PUT still answers what ARM answers
    assert seen[0] in ("Succeeded", "Failed") and len(seen) == 1


def test_the_knob_comes_from_the_estate_section_and_the_serve_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    estate: dict[str, Any] = {**sc.landing_zone(), "emulator": {"remediationPolls": 4}}
    assert Emulator.load(estate).state.knobs.remediation_polls == 4
    assert Emulator.load(estate, remediation_polls=2).state.knobs.remediation_polls == 2

    loaded: list[Emulator] = []
    load = Emulator.load

    def load_then_stop(source: Any, **overrides: Any) -> Emulator:
        loaded.append(load(estate, **overrides))
        raise UsageError("stop before serving")

    monkeypatch.setattr(emulator_cli.Emulator, "load", load_then_stop)
    result = CliRunner().invoke(emulator_cli.emulator, ["serve", "--estate", "x", "--remediation-polls", "7"])
    assert isinstance(result.exception, UsageError)
    assert [e.state.knobs.remediation_polls for e in loaded] == [7]
