"""Azure's time and consistency model in the emulator, through the unmodified SDK clients.

Each delay is a knob with Azure's figure (get-compliance-data.md "Evaluation triggers": a changed
resource is re-evaluated about 15 minutes later, every record once every 24 hours, on-demand scans
are asynchronous; Resource Graph trails the source of truth). The clock is paused here, so only
the test's explicit advances move simulated time: nothing sleeps and nothing depends on speed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc
from tests.integration.test_policy_remediations import _client, _fix_out_of_band, _noncompliant

NEW = "2024-10-01"
STATES = "2019-10-01"
RESTORED = ("vm-restored", "vm-assessment")


def _served(factory: Callable[..., Served], **knobs: Any) -> Served:
    return factory(sc.landing_zone(), clock_follows_real_time=False, **knobs)


def _graph_noncompliant(served: Served) -> set[tuple[str, str]]:
    graph = ResourceGraphClient(served.credential(), **served.client_kwargs())
    rows = graph.resources(
        QueryRequest(
            subscriptions=[b.S1],
            query="policyresources | where type =~ 'microsoft.policyinsights/policystates' "
            "| where properties.complianceState =~ 'NonCompliant' | project properties",
        )
    ).data
    return {
        (r["properties"]["resourceId"].rsplit("/", 1)[-1], r["properties"]["policyAssignmentId"].rsplit("/", 1)[-1])
        for r in rows
    }


def _remediate_restored(client: PolicyInsightsClient) -> str:
    body = json.dumps(
        {"properties": {"policyAssignmentId": sc.A_OLD["id"], "filters": {"resourceIds": [sc.VM_RESTORED["id"]]}}}
    ).encode()
    client.remediations.create_or_update_at_subscription("restored", body, api_version=NEW)
    for _ in range(10):
        state = client.remediations.get_at_subscription("restored", api_version=NEW).provisioning_state
        if state not in ("Accepted", "Evaluating", "Running"):
            return str(state)
    return "still running"


def test_a_succeeded_remediation_leaves_the_state_until_the_machine_is_re_evaluated(
    emulator_factory: Callable[..., Served],
) -> None:
    served = _served(emulator_factory)
    client = _client(served)
    assert _remediate_restored(client) == "Succeeded"
    vm = served.emulator.get(sc.VM_RESTORED["id"])
    assert vm is not None
    assert vm["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["assessmentMode"] == (
        "AutomaticByPlatform"
    )
    # The deployment changed the VM, but the state is the last evaluation's.
    assert RESTORED in _noncompliant(client)
    served.emulator.advance(timedelta(minutes=14))
    assert RESTORED in _noncompliant(client)
    served.emulator.advance(timedelta(minutes=1))
    assert RESTORED not in _noncompliant(client)
    # Resource Graph trails the Policy Insights API by its lag (30 s).
    assert RESTORED in _graph_noncompliant(served)
    served.emulator.advance(30)
    assert RESTORED not in _graph_noncompliant(served)
    assert ("vm-gallery", "vm-assessment") in _graph_noncompliant(served)  # not remediated: unchanged


def test_an_arm_write_to_a_machine_re_evaluates_only_that_machine_15_minutes_later(
    emulator_factory: Callable[..., Served],
) -> None:
    served = _served(emulator_factory)
    client = _client(served)
    _fix_out_of_band(served, sc.VM_RESTORED["id"])
    _fix_out_of_band(served, sc.VM_GALLERY["id"])
    tagged = served.arm("PATCH", sc.VM_RESTORED["id"], params={"api-version": "2024-07-01"}, json={"tags": {"a": "b"}})
    assert tagged.status_code in (200, 202), tagged.text
    served.emulator.advance(timedelta(minutes=14))
    assert RESTORED in _noncompliant(client)
    served.emulator.advance(timedelta(minutes=1))
    after = _noncompliant(client)
    assert RESTORED not in after
    assert ("vm-gallery", "vm-assessment") in after  # no write to it: it waits for the daily cycle
    served.emulator.advance(timedelta(hours=24))
    assert ("vm-gallery", "vm-assessment") not in _noncompliant(client)


def test_trigger_evaluation_is_202_with_location_only_and_runs_for_minutes(
    emulator_factory: Callable[..., Served],
) -> None:
    served = _served(emulator_factory)
    client = _client(served)
    _fix_out_of_band(served, sc.VM_GALLERY["id"])
    path = f"/subscriptions/{b.S1}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation"
    started = served.arm("POST", path, params={"api-version": STATES})
    assert started.status_code == 202 and started.text == ""
    assert "Azure-AsyncOperation" not in started.headers
    location = started.headers["Location"]
    assert f"/subscriptions/{b.S1}/providers/Microsoft.PolicyInsights/asyncOperationResults/" in location
    # A second request while the scope's scan runs gets the same Location and starts nothing.
    assert served.arm("POST", path, params={"api-version": STATES}).headers["Location"] == location
    status_path = location.split(served.endpoint.url, 1)[1]
    assert served.arm("GET", status_path).status_code == 202
    served.emulator.advance(timedelta(minutes=10))
    assert served.arm("GET", status_path).status_code == 202
    assert ("vm-gallery", "vm-assessment") in _noncompliant(client)
    served.emulator.advance(timedelta(minutes=5))
    done = served.arm("GET", status_path)
    assert (done.status_code, done.json()) == (200, {"status": "Succeeded"})
    assert ("vm-gallery", "vm-assessment") not in _noncompliant(client)
    # The SDK's poller follows the Location: not done until the clock passes the scan's length.
    poller = client.policy_states.begin_trigger_subscription_evaluation(b.S1)
    poller.wait(timeout=0.5)
    assert not poller.done()
    served.emulator.advance(timedelta(minutes=15))
    poller.result()
    assert poller.status() == "Succeeded"


def test_the_clock_starts_at_the_estate_now_and_moves_only_forward(emulator_factory: Callable[..., Served]) -> None:
    served = _served(emulator_factory)
    state = served.emulator.state
    assert state.now is not None and state.current_time() == state.now
    served.emulator.advance(timedelta(hours=2))
    assert state.current_time() - state.now == timedelta(hours=2)
    assert state.now.isoformat().startswith("2026-11-26T09:00")  # the estate's start time, for --estate runs


def test_instant_consistency_has_no_delays(emulator_factory: Callable[..., Served]) -> None:
    served = _served(emulator_factory, consistency="instant")
    client = _client(served)
    assert _remediate_restored(client) == "Succeeded"
    assert RESTORED not in _noncompliant(client)
    assert RESTORED not in _graph_noncompliant(served)
