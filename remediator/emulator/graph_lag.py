"""Resource Graph trails ARM: a changed policy state record shows there ``graph_lag_seconds`` later.

Resource Graph is an asynchronous index that "lags behind the source of truth by a brief period"
(learn.microsoft.com, governance/resource-graph/choose-query-strategy); the knob's default is the
Resource Graph team's figure of 95% of changes present within 30 s (Azure/azure-dev issue 540).
Whoever changes a record calls :func:`record_changing` first; Resource Graph's rows read
:func:`graph_view`. (The Policy Insights API itself is the source of truth: no lag there.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from remediator.emulator.state import EmulatorState


def record_key(record: dict[str, Any]) -> str:
    """A policy record's identity: resource, assignment and definition reference (lowercase)."""
    return "|".join(
        str(record.get(k) or "").lower() for k in ("resourceId", "policyAssignmentId", "policyDefinitionReferenceId")
    )


def _lagging(state: EmulatorState) -> dict[str, tuple[datetime, dict[str, Any]]]:
    lagging: dict[str, tuple[datetime, dict[str, Any]]] = state.extras.setdefault("graph.lagging", {})
    return lagging


def record_changing(state: EmulatorState, record: dict[str, Any]) -> None:
    """Called before a record changes: Resource Graph keeps showing it as it is for the lag."""
    lag = state.delay(state.knobs.graph_lag_seconds)
    if lag <= timedelta(0):
        return
    key = record_key(record)
    lagging = _lagging(state)
    now = state.current_time()
    entry = lagging.get(key)
    shown = entry[1] if entry is not None and entry[0] > now else dict(record)
    lagging[key] = (now + lag, shown)


def graph_token(state: EmulatorState) -> int:
    """How many records Resource Graph still shows out of date (drops expired ones): a cache key."""
    lagging = _lagging(state)
    now = state.current_time()
    for key in [k for k, (until, _) in lagging.items() if until <= now]:
        del lagging[key]
    return len(lagging)


def graph_view(state: EmulatorState, record: dict[str, Any]) -> dict[str, Any]:
    """The record as Resource Graph serves it now (an older copy while the lag lasts)."""
    lagging = _lagging(state)
    if not lagging:
        return record
    entry = lagging.get(record_key(record))
    return entry[1] if entry is not None and entry[0] > state.current_time() else record
