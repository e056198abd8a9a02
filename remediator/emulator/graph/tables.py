"""Resource Graph's tables, built from the emulator state in Resource Graph's row shapes.

Which table a resource lands in follows Azure: resource containers (subscriptions, resource
groups, management groups), maintenance, patch assessment/installation results, policy and
authorization resources each have their own table; everything else is ``resources``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from remediator.emulator.graph_lag import graph_token, graph_view
from remediator.emulator.management_groups import ancestors_chain, graph_properties, subscription_ancestors
from remediator.emulator.policy_model import assignment_facts
from remediator.emulator.shapes import graph_row
from remediator.emulator.state import MANAGEMENT_GROUP_TYPE, EmulatorState
from remediator.emulator.store import resource_group_of, subscription_of

Row = dict[str, Any]

TABLES = (
    "resources",
    "resourcecontainers",
    "maintenanceresources",
    "patchassessmentresources",
    "patchinstallationresources",
    "policyresources",
    "authorizationresources",
)

_TABLE_OF_TYPE = {
    "microsoft.resources/subscriptions": "resourcecontainers",
    "microsoft.resources/subscriptions/resourcegroups": "resourcecontainers",
    "microsoft.management/managementgroups": "resourcecontainers",
    "microsoft.maintenance/configurationassignments": "maintenanceresources",
    "microsoft.maintenance/applyupdates": "maintenanceresources",
    "microsoft.maintenance/updates": "maintenanceresources",
    "microsoft.authorization/policyassignments": "policyresources",
    "microsoft.authorization/policydefinitions": "policyresources",
    "microsoft.authorization/policysetdefinitions": "policyresources",
    "microsoft.authorization/policyexemptions": "policyresources",
    # Remediations are in no table: Microsoft's table reference lists none for them ("" below).
    "microsoft.policyinsights/remediations": "",
    "microsoft.policyinsights/policystates": "policyresources",
    "microsoft.authorization/roleassignments": "authorizationresources",
    "microsoft.authorization/roledefinitions": "authorizationresources",
}
# Graph spells some types differently from the id they are derived from.
_GRAPH_TYPE = {"microsoft.resources/resourcegroups": "microsoft.resources/subscriptions/resourcegroups"}

_POLICY_TYPES = (
    "microsoft.authorization/policyassignments",
    "microsoft.authorization/policydefinitions",
    "microsoft.authorization/policysetdefinitions",
)
POLICY_STATE_NAMESPACE = uuid.UUID("6b0c0e9e-3c55-4a0f-9a0e-51f5d1c6a2b7")


def table_of(graph_type: str) -> str:
    if graph_type in _TABLE_OF_TYPE:
        return _TABLE_OF_TYPE[graph_type]
    if "/patchassessmentresults" in graph_type:
        return "patchassessmentresources"
    if "/patchinstallationresults" in graph_type:
        return "patchinstallationresources"
    return "resources"


def graph_type(store_type: str) -> str:
    """The lowercase type Resource Graph shows for a stored (lowercase) type."""
    return _GRAPH_TYPE.get(store_type, store_type)


def _cached(state: EmulatorState, key: str, version: Any, build: Callable[[], list[Row]]) -> list[Row]:
    cache: dict[str, tuple[Any, list[Row]]] = state.extras.setdefault("graph.rows", {})
    entry = cache.get(key)
    if entry is None or entry[0] != version:
        entry = (version, build())
        cache[key] = entry
    return entry[1]


def _rows_of_stored_type(state: EmulatorState, store_type: str) -> list[Row]:
    def build() -> list[Row]:
        rows = []
        shown = graph_type(store_type)
        for resource in state.store.of_type(store_type):
            row = graph_row(resource, state.tenant_id)
            row["type"] = shown
            if shown == MANAGEMENT_GROUP_TYPE.lower():
                row["subscriptionId"] = ""
                row["properties"] = graph_properties(state, resource)
            rows.append(row)
        return rows

    return _cached(state, "type:" + store_type, state.store.type_version(store_type), build)


def table_rows(state: EmulatorState, table: str, types: frozenset[str] | None = None) -> list[Row]:
    """A table's rows, optionally only those of ``types`` (lowercase Graph types): a hint the
    caller still filters by, so building rows for 100,000 unrelated resources is skipped."""

    def wanted(shown: str) -> bool:
        return table_of(shown) == table and (types is None or shown in types)

    rows: list[Row] = []
    for store_type in state.store.types():
        if wanted(graph_type(store_type)):
            rows.extend(_rows_of_stored_type(state, store_type))
    if wanted("microsoft.resources/subscriptions"):
        key = (len(state.subscriptions), state.store.type_version(MANAGEMENT_GROUP_TYPE))
        rows.extend(
            _cached(
                state, "subscriptions", key, lambda: [subscription_row(state, s) for s in state.subscriptions.values()]
            )
        )
    if wanted("microsoft.authorization/policydefinitions"):
        rows.extend(
            _cached(
                state,
                "builtin-policy",
                0,
                lambda: [graph_row(d, state.tenant_id) for d in state.builtin_policy_definitions.values()],
            )
        )
    if wanted("microsoft.authorization/roledefinitions"):
        rows.extend(
            _cached(
                state,
                "builtin-roles",
                0,
                lambda: [graph_row(d, state.tenant_id) for d in state.builtin_role_definitions.values()],
            )
        )
    if wanted("microsoft.policyinsights/policystates"):
        # Rows read the assignments and definitions too: a changed effect parameter shows.
        states_key = (
            state.policy_states_version,
            id(state.policy_states),
            len(state.policy_states),
            graph_token(state),
            *(state.store.type_version(t) for t in _POLICY_TYPES),
        )
        rows.extend(_cached(state, "policy-states", states_key, lambda: policy_state_rows(state)))
    return rows


def subscription_row(state: EmulatorState, subscription: dict[str, Any]) -> Row:
    sub_id = str(subscription["subscriptionId"])
    properties = {
        k: v for k, v in subscription.items() if k not in ("id", "subscriptionId", "displayName", "tenantId", "tags")
    }
    # Parent first, ending with the tenant root group (management_groups.graph_properties).
    properties["managementGroupAncestorsChain"] = ancestors_chain(state, subscription_ancestors(state, sub_id))
    return {
        "id": f"/subscriptions/{sub_id}",
        "name": subscription.get("displayName", sub_id),
        "type": "microsoft.resources/subscriptions",
        "tenantId": subscription.get("tenantId", state.tenant_id),
        "kind": "",
        "location": "",
        "resourceGroup": "",
        "subscriptionId": sub_id,
        "managedBy": "",
        "sku": None,
        "plan": None,
        "properties": properties,
        "tags": subscription.get("tags") or {},
        "identity": {},
        "zones": None,
        "extendedLocation": None,
    }


def policy_state_rows(state: EmulatorState) -> list[Row]:
    """``microsoft.policyinsights/policystates`` rows of ``policyresources``, one per record.

    Their properties are the record's, plus what Resource Graph's rows carry from the assignment
    (the policy states API's field names): ``policyAssignmentScope`` and ``policyDefinitionAction``,
    the member's effect in lowercase. For an assignment the estate does not hold, the record's
    own values (an export's) are kept.
    """
    facts: dict[tuple[str, str], tuple[str, str] | None] = {}  # one reading per assignment member
    rows: list[Row] = []
    for current in state.policy_states:
        record = graph_view(state, current)  # Resource Graph trails the Policy Insights API
        resource_id = str(record.get("resourceId", ""))
        member = (str(record.get("policyAssignmentId") or ""), str(record.get("policyDefinitionReferenceId") or ""))
        key_of_member = (member[0].lower(), member[1].lower())
        if key_of_member not in facts:
            facts[key_of_member] = assignment_facts(state, *member)
        scope, action = facts[key_of_member] or (
            str(record.get("policyAssignmentScope") or ""),
            str(record.get("policyDefinitionAction") or ""),
        )
        properties = {**record, "policyAssignmentScope": scope, "policyDefinitionAction": action.lower()}
        key = "|".join(
            str(record.get(k, "")).lower() for k in ("resourceId", "policyAssignmentId", "policyDefinitionReferenceId")
        )
        name = str(uuid.uuid5(POLICY_STATE_NAMESPACE, key))
        rows.append(
            {
                "id": f"{resource_id}/providers/Microsoft.PolicyInsights/policyStates/{name}",
                "name": name,
                "type": "microsoft.policyinsights/policystates",
                "tenantId": state.tenant_id,
                "kind": "",
                "location": str(record.get("resourceLocation", "")),
                "resourceGroup": resource_group_of(resource_id),
                "subscriptionId": subscription_of(resource_id),
                "managedBy": "",
                "sku": None,
                "plan": None,
                "properties": properties,
                "tags": {},
                "identity": {},
                "zones": None,
                "extendedLocation": None,
            }
        )
    return rows
