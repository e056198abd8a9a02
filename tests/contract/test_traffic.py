"""Record what the bot sends in a representative set of its own flows, and hold it to the swaggers.

Each flow is the engine end to end (plan, apply, plan again) through the real SDK clients against
a served emulator (tests/playbook_harness.py); every request in ``emulator.request_log`` is then
judged by traffic.py. Requests to services with no swagger in the folder are counted as
unchecked and listed in the terminal summary (``make contract``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from remediator.emulator.state import LogEntry
from tests.contract.swagger import SpecFolder
from tests.contract.traffic import TRAFFIC_KEY, TrafficReport, answers_in, judge, judge_answers
from tests.playbook_harness import run_through_emulator


def _demo() -> Any:
    return run_through_emulator("demo", [])


def _policy() -> Any:
    from remediator import Scope
    from tests.data.policy import builders, scenarios

    playbooks = ["policy-identity-roles", "policy-remediation"]
    options = {"policy-remediation": {"trigger_evaluation": True}}
    by_subscription = run_through_emulator(scenarios.landing_zone(), playbooks, options=options)
    by_group = run_through_emulator(scenarios.landing_zone(), playbooks, scope=Scope(management_group=builders.MG))
    return [by_subscription, by_group]


def _extensions() -> Any:
    from tests.e2e.test_extension_update import scenario

    playbooks = ["update-extension", "extension-operations"]
    return run_through_emulator(scenario(), playbooks, fix={"extension-operations": True})


def _arc_provider() -> Any:
    from tests.e2e.test_arc_compute_provider import estate

    return run_through_emulator(estate(), ["arc-compute-provider"])


def _maintenance_fleet() -> Any:
    from tests.data.maintenance.fleet import fleet

    return run_through_emulator(fleet(), [])


def _maintenance_fixes() -> Any:
    from tests.unit.test_maintenance_schedules import powered_estate, window_estate

    powered = run_through_emulator(powered_estate(), ["powered-off-machines"], fix={"powered-off-machines": True})
    window = run_through_emulator(window_estate(), ["maintenance-window"], fix={"maintenance-window": True})
    return [powered, window]


FLOWS: dict[str, Callable[[], Any]] = {
    "demo-all-playbooks": _demo,
    "policy-roles-and-remediation": _policy,
    "extension-update-and-operations": _extensions,
    "arc-compute-provider": _arc_provider,
    "maintenance-fleet": _maintenance_fleet,
    "maintenance-window-and-power-fixes": _maintenance_fixes,
}


def recorded(flow: str) -> list[LogEntry]:
    """Every request the flow's emulator(s) served; the flow must have run cleanly."""
    found = FLOWS[flow]()
    entries: list[LogEntry] = []
    for result in found if isinstance(found, list) else [found]:
        assert result.errors == (), f"{flow}: the flow itself failed: {result.errors}"
        entries.extend(result.emulator.request_log)
    return entries


@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_every_request_and_answer_of_the_flow_fits_the_swaggers(flow: str, specs: SpecFolder, request: Any) -> None:
    entries = recorded(flow)
    report = judge(specs, entries)
    report.merge(judge_answers(specs, answers_in(entries)))
    request.config.stash.setdefault(TRAFFIC_KEY, TrafficReport()).merge(report)
    assert sum(report.checked.values()) > 0, f"{flow} sent nothing the swaggers cover"
    failures = report.failures
    assert not failures, f"{len(failures)} requests or answers of {flow} break the swaggers:\n" + "\n".join(
        failures[:40]
    )
