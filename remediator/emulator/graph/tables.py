"""Resource Graph's tables, built from the emulator state in Resource Graph's row shapes.

Which table a resource lands in follows Azure: resource containers (subscriptions, resource
groups, management groups), maintenance, patch assessment/installation results, policy and
authorization resources each have their own table; everything else is ``resources``.
"""

from __future__ import annotations

import uuid
from typing import Any

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
    "microsoft.policyinsights/remediations": "policyresources",
    "microsoft.policyinsights/policystates": "policyresources",
    "microsoft.authorization/roleassignments": "authorizationresources",
    "microsoft.authorization/roledefinitions": "authorizationresources",
}
# Graph spells some types differently from the id they are derived from.
_GRAPH_TYPE = {"microsoft.resources/resourcegroups": "microsoft.resources/subscriptions/resourcegroups"}

POLICY_STATE_NAMESPACE = uuid.UUID("6b0c0e9e-3c55-4a0f-9a0e-51f5d1c6a2b7")


def table_of(graph_type: str) -> str:
    if graph_type in _TABLE_OF_TYPE:
        return _TABLE_OF_TYPE[graph_type]
    if "/patchassessmentresults" in graph_type:
        return "patchassessmentresources"
    if "/patchinstallationresults" in graph_type:
        return "patchinstallationresources"
    return "resources"


def build_tables(state: EmulatorState) -> dict[str, list[Row]]:
    """Every table's rows (the resource part; policy states come from :func:`policy_state_rows`)."""
    tables: dict[str, list[Row]] = {name: [] for name in TABLES}
    for resource in state.store:
        row = graph_row(resource, state.tenant_id)
        row["type"] = _GRAPH_TYPE.get(row["type"], row["type"])
        if row["type"] == MANAGEMENT_GROUP_TYPE.lower():
            row["subscriptionId"] = ""
        tables[table_of(row["type"])].append(row)
    for subscription in state.subscriptions.values():
        tables["resourcecontainers"].append(subscription_row(state, subscription))
    for definition in state.builtin_policy_definitions.values():
        tables["policyresources"].append(graph_row(definition, state.tenant_id))
    for definition in state.builtin_role_definitions.values():
        tables["authorizationresources"].append(graph_row(definition, state.tenant_id))
    return tables


def subscription_row(state: EmulatorState, subscription: dict[str, Any]) -> Row:
    sub_id = str(subscription["subscriptionId"])
    properties = {
        k: v for k, v in subscription.items() if k not in ("id", "subscriptionId", "displayName", "tenantId", "tags")
    }
    properties["managementGroupAncestorsChain"] = [
        {"name": name, "displayName": _group_display_name(state, name)}
        for name in state.management_group_ancestors(sub_id)
    ]
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


def _group_display_name(state: EmulatorState, name: str) -> str:
    group = state.management_group(name) or {}
    return str((group.get("properties") or {}).get("displayName") or name)


def policy_state_rows(state: EmulatorState) -> list[Row]:
    """``microsoft.policyinsights/policystates`` rows of ``policyresources``, one per record."""
    rows: list[Row] = []
    for record in state.policy_states:
        resource_id = str(record.get("resourceId", ""))
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
                "properties": dict(record),
                "tags": {},
                "identity": {},
                "zones": None,
                "extendedLocation": None,
            }
        )
    return rows
