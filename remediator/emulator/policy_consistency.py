"""When Azure Policy's compliance states change, and when Resource Graph shows them.

get-compliance-data.md ("Evaluation triggers", MicrosoftDocs/azure-docs
articles/governance/policy/how-to/get-compliance-data.md) lists what re-evaluates a resource;
the emulator models the three the bot meets:

* a write to a resource (or to a resource below it, e.g. a configuration assignment on a VM):
  its states are re-evaluated ``policy_evaluation_delay_seconds`` later ("around 15 minutes
  later. This event doesn't cause an evaluation of other resources");
* the standard cycle: every ``policy_evaluation_cycle_seconds`` (24 h) every record is evaluated;
* an on-demand scan (``policy_scans``).

A remediation's deployment is such a write: it does not flip the state itself. Resource Graph
then shows a changed record ``graph_lag_seconds`` after the Policy Insights API does (``graph_lag``).
Under ``consistency: instant`` every delay is zero.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from remediator.emulator.policy_evaluation import evaluate
from remediator.emulator.state import EmulatorState

# A write to any path below a machine re-evaluates that machine (its extensions, its assignments).
_MACHINE = re.compile(
    r"^(/subscriptions/[^/]+/resourcegroups/[^/]+/providers/"
    r"(?:microsoft\.compute/virtualmachines|microsoft\.hybridcompute/machines)/[^/]+)",
    re.IGNORECASE,
)
WRITES = frozenset({"PUT", "PATCH", "DELETE"})


def install(state: EmulatorState) -> None:
    """Start the daily evaluation cycle on a freshly seeded state."""
    cycle = timedelta(seconds=state.knobs.policy_evaluation_cycle_seconds)

    def run_cycle() -> None:
        evaluate(state, state.policy_states)
        state.timeline.at(state.current_time() + cycle, run_cycle)

    state.timeline.at(state.current_time() + cycle, run_cycle)


def _records_by_resource(state: EmulatorState) -> dict[str, list[dict[str, Any]]]:
    """Policy records by lowercase resource id (rebuilt when the record list is replaced or grows)."""
    policy = state.extras.setdefault("policy", {})
    token = (id(state.policy_states), len(state.policy_states))
    cached = policy.get("records-by-resource")
    if cached is None or cached[0] != token:
        index: dict[str, list[dict[str, Any]]] = {}
        for record in state.policy_states:
            index.setdefault(str(record.get("resourceId", "")).lower(), []).append(record)
        cached = (token, index)
        policy["records-by-resource"] = cached
    found: dict[str, list[dict[str, Any]]] = cached[1]
    return found


def resource_changed(state: EmulatorState, path: str) -> None:
    """A write reached ``path``: re-evaluate the machine it belongs to after Azure's delay."""
    match = _MACHINE.match(path)
    if match is None:
        return
    machine = match.group(1).lower()
    if not _records_by_resource(state).get(machine):
        return

    def reevaluate() -> None:
        evaluate(state, _records_by_resource(state).get(machine, []))

    state.schedule(state.delay(state.knobs.policy_evaluation_delay_seconds), reevaluate)


def request_served(state: EmulatorState, method: str, path: str, status: int) -> None:
    """The dispatcher's hook: every successful ARM write counts as a change to its resource."""
    if method in WRITES and 200 <= status < 300:
        with state.lock:
            resource_changed(state, path)
