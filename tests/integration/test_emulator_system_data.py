"""ARM's systemData on what the emulator creates or updates, and on Resource Graph rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
POLICY = "2023-04-01"
MAINTENANCE = "2023-04-01"
CONFIG_ID = f"{b.rg_id(b.S2, 'maintenance')}/providers/Microsoft.Maintenance/maintenanceConfigurations/weekly"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _graph(served: Served, query: str) -> list[dict[str, Any]]:
    graph = ResourceGraphClient(served.credential(), **served.client_kwargs())
    rows: list[dict[str, Any]] = graph.resources(QueryRequest(subscriptions=[b.S1, b.S2], query=query)).data
    return rows


def _put_assignment(served: Served, effect: str) -> Any:
    body = {
        "location": "westeurope",
        "identity": {"type": "SystemAssigned"},
        "properties": {"policyDefinitionId": b.PREREQUISITES, "parameters": {"effect": {"value": effect}}},
    }
    path = f"{b.sub_id(b.S1)}/providers/Microsoft.Authorization/policyAssignments/prereq"
    return served.arm("PUT", path, params={"api-version": POLICY}, json=body)


def test_a_write_stamps_creator_and_modifier_and_an_update_keeps_the_creation(
    emulator_factory: Callable[..., Served],
) -> None:
    served = emulator_factory(sc.landing_zone(), clock_follows_real_time=False)  # exact stamps
    served.emulator.state.now = MONDAY
    created = _put_assignment(served, "DeployIfNotExists")
    served.emulator.state.now = TUESDAY
    updated = _put_assignment(served, "Disabled")

    me = served.emulator.principal_id
    assert (created.status_code, updated.status_code) == (201, 200)
    assert created.json()["systemData"] == {
        "createdBy": me,
        "createdByType": "Application",
        "createdAt": _iso(MONDAY),
        "lastModifiedBy": me,
        "lastModifiedByType": "Application",
        "lastModifiedAt": _iso(MONDAY),
    }
    assert updated.json()["systemData"] == {**created.json()["systemData"], "lastModifiedAt": _iso(TUESDAY)}
    # Resource Graph serves the stored systemData on the row.
    [row] = [
        r
        for r in _graph(served, "policyresources | where type =~ 'microsoft.authorization/policyassignments'")
        if r["name"] == "prereq"
    ]
    assert row["systemData"] == updated.json()["systemData"]


def test_maintenance_writes_name_the_caller(emulator_factory: Callable[..., Served]) -> None:
    data = sc.landing_zone()
    data["resources"].append(b.resource_group(b.S2, "maintenance"))
    served = emulator_factory(data, clock_follows_real_time=False)  # exact stamps
    served.emulator.state.now = MONDAY
    answer = served.arm(
        "PUT",
        CONFIG_ID,
        params={"api-version": MAINTENANCE},
        json={
            "location": "westeurope",
            "properties": {
                "maintenanceScope": "InGuestPatch",
                "maintenanceWindow": {
                    "startDateTime": "2026-11-28 22:00",
                    "duration": "03:00",
                    "timeZone": "UTC",
                    "recurEvery": "1Week Saturday",
                },
                "installPatches": {"rebootSetting": "IfRequired"},
                "extensionProperties": {"InGuestPatchMode": "User"},
            },
        },
    )
    assert answer.status_code in (200, 201), answer.text
    system = answer.json()["systemData"]
    me = served.emulator.principal_id
    assert (system["createdBy"], system["lastModifiedBy"], system["createdAt"]) == (me, me, _iso(MONDAY))
    [row] = _graph(served, "resources | where type =~ 'microsoft.maintenance/maintenanceconfigurations'")
    assert row["systemData"] == system


def test_a_policy_deployment_writes_as_the_assignment_identity(emulator_factory: Callable[..., Served]) -> None:
    assignment = b.policy_assignment(
        b.sub_id(b.S1),
        "schedule",
        b.SCHEDULING,
        principal=sc.P_OLD,
        parameters={"maintenanceConfigurationResourceId": CONFIG_ID},
    )
    data = sc.landing_zone()
    data["resources"] += [
        assignment,
        b.resource_group(b.S2, "maintenance"),
        b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "c1"),
        b.role_assignment(CONFIG_ID, sc.P_OLD, b.CONTRIBUTOR, "c2"),
    ]
    data["policyStates"].append(b.state(sc.VM_RESTORED, assignment, b.SCHEDULING))
    served = emulator_factory(data, remediation_polls=0)
    client = PolicyInsightsClient(served.credential(), b.S1, **served.client_kwargs())
    body = json.dumps({"properties": {"policyAssignmentId": assignment["id"]}}).encode()
    client.remediations.create_or_update_at_subscription("schedule", body)
    assert client.remediations.get_at_subscription("schedule").provisioning_state == "Succeeded"

    [made] = served.emulator.state.store.under(sc.VM_RESTORED["id"], "Microsoft.Maintenance/configurationAssignments")
    assert (made["systemData"]["createdBy"], made["systemData"]["createdByType"]) == (sc.P_OLD, "ManagedIdentity")


def test_graph_rows_carry_the_systemdata_an_estate_gives_and_none_otherwise(
    emulator_factory: Callable[..., Served],
) -> None:
    exported = {
        "createdBy": "someone@example.com",
        "createdByType": "User",
        "createdAt": "2025-01-02T03:04:05.0000000Z",
        "lastModifiedBy": "someone@example.com",
        "lastModifiedByType": "User",
        "lastModifiedAt": "2025-01-02T03:04:05.0000000Z",
    }
    data = sc.landing_zone()
    for resource in data["resources"]:
        if resource["id"] == sc.VM_OK["id"]:
            resource["systemData"] = exported
    served = emulator_factory(data)
    rows = _graph(
        served,
        "resources | where type =~ 'microsoft.compute/virtualmachines' | project name, systemData",
    )
    assert {r["name"]: r["systemData"] for r in rows} == {
        "vm-ok": exported,
        "vm-restored": None,
        "vm-gallery": None,
    }
