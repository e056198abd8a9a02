"""ARM's ``systemData`` for what the emulator creates or updates, for the types whose specs define it.

The specs in ``azure/rest-specs`` give ``systemData`` (common-types ``systemData``: ``createdBy``,
``createdByType``, ``createdAt``, ``lastModifiedBy``, ``lastModifiedByType``, ``lastModifiedAt``)
to maintenance configurations, configuration assignments and apply-updates (Maintenance
2023-04-01 ``Resource``), policy assignments (2025-03-01) and remediations (2021-10-01). Role
assignments, resource groups and the generic resources keep their own shapes.

The creator is kept across updates; the last modifier and time change with each write. A write
made through the API is the caller's (``Application``: the bot is a service principal); one a
policy deployment makes runs as the assignment's identity (``ManagedIdentity``).
"""

from __future__ import annotations

from typing import Any

from remediator.emulator.state import EmulatorState

APPLICATION = "Application"
MANAGED_IDENTITY = "ManagedIdentity"


def system_data(
    state: EmulatorState, existing: dict[str, Any] | None, actor: str, actor_type: str = APPLICATION
) -> dict[str, Any]:
    """``systemData`` for a write by ``actor`` over ``existing`` (None: a create).

    >>> from datetime import UTC, datetime
    >>> from remediator.emulator.knobs import Knobs
    >>> paused = Knobs(clock_follows_real_time=False)  # the simulated clock moves only when advanced
    >>> state = EmulatorState("t", now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC), knobs=paused)
    >>> created = system_data(state, None, "app-1")
    >>> created["createdAt"], created["createdByType"], created["lastModifiedBy"]
    ('2026-11-26T09:00:00.0000000Z', 'Application', 'app-1')
    >>> system_data(state, {"systemData": created}, "mi-2", MANAGED_IDENTITY)["createdBy"]
    'app-1'
    """
    now = state.now_iso()
    created = (existing or {}).get("systemData") or {}
    return {
        "createdBy": created.get("createdBy", actor),
        "createdByType": created.get("createdByType", actor_type),
        "createdAt": created.get("createdAt", now),
        "lastModifiedBy": actor,
        "lastModifiedByType": actor_type,
        "lastModifiedAt": now,
    }
