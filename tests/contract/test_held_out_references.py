"""Examples that name things the seeding has never seen are replayed, not failed on seeding.

Each example below is written for this test with new names and ids (as Microsoft adds examples
to azure-rest-api-specs): it references a subscription, a management group, a user-assigned
identity or a parent resource that exists nowhere else, and the seeding must create it from the
example alone (seeding.py, family_seeders.py); a subscription named with a word (``subid``) is
replayed under a GUID that stands for it (placeholders.py). A ``{nextLink}`` example cannot be replayed (the
link is the service's own, opaque; the first page's replay follows the emulator's) and is
skipped with that reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.contract.held_out import EMPTY_TENANT_TEST, REPLAY_TEST, add_example, replay_folder, spec_tree
from tests.contract.swagger import SpecFolder

SUBSCRIPTION = "6c1f2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
IDENTITY_SUBSCRIPTION = "7d2e3f4a-5b6c-4d7e-8f90-a1b2c3d4e5f6"
REMEDIATIONS_VERSION = "2024-10-01"
VMS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-held-out/providers/Microsoft.Compute/virtualMachines"
SCHEDULING_DEFINITION = "/providers/Microsoft.Authorization/policyDefinitions/59efceea-0c96-497e-a4a1-4eb2290dac15"
SYSTEM_DATA = {"createdBy": "held-out@example.com", "createdByType": "User", "createdAt": "2026-01-02T03:04:05Z",
               "lastModifiedBy": "held-out@example.com", "lastModifiedByType": "User",
               "lastModifiedAt": "2026-01-02T03:04:05Z"}  # fmt: skip


def _remediation(scope: str, name: str, assignment: str) -> dict[str, Any]:
    remediation_id = f"{scope}/providers/Microsoft.PolicyInsights/remediations/{name}"
    shown = {
        "id": remediation_id,
        "name": name,
        "type": "Microsoft.PolicyInsights/remediations",
        "systemData": SYSTEM_DATA,
        "properties": {
            "policyAssignmentId": assignment,
            "provisioningState": "Accepted",
            "createdOn": "2026-01-02T03:04:05Z",
            "lastUpdatedOn": "2026-01-02T03:04:05Z",
            "resourceDiscoveryMode": "ExistingNonCompliant",
            "deploymentStatus": {"totalDeployments": 0, "successfulDeployments": 0, "failedDeployments": 0},
        },
    }
    return {"200": {"body": shown}, "201": {"body": shown}}


def _assignment_at(scope: str, name: str) -> str:
    return f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}"


def _management_group(name: str) -> str:
    return f"/providers/Microsoft.Management/managementGroups/{name}"


def subscription_remediation_of_a_management_group_assignment() -> tuple[str, dict[str, Any]]:
    """A subscription and a management group seen nowhere else: the assignment sits above the task."""
    assignment = _assignment_at(_management_group("mg-held-out"), "held-out-assignment")
    body = {"properties": {"policyAssignmentId": assignment}}
    params = {"subscriptionId": SUBSCRIPTION, "remediationName": "held-out-remediation",
              "api-version": REMEDIATIONS_VERSION, "parameters": body}  # fmt: skip
    responses = _remediation(f"/subscriptions/{SUBSCRIPTION}", "held-out-remediation", assignment)
    return "Remediations_CreateOrUpdateAtSubscription", {"parameters": params, "responses": responses}


def management_group_remediation_of_a_parent_group_assignment() -> tuple[str, dict[str, Any]]:
    """A task at a child management group for an assignment at its parent group (neither seen before)."""
    assignment = _assignment_at(_management_group("mg-held-out-parent"), "held-out-parent-assignment")
    body = {"properties": {"policyAssignmentId": assignment}}
    params = {"managementGroupsNamespace": "Microsoft.Management", "managementGroupId": "mg-held-out-child",
              "remediationName": "held-out-child-remediation", "api-version": REMEDIATIONS_VERSION,
              "parameters": body}  # fmt: skip
    responses = _remediation(_management_group("mg-held-out-child"), "held-out-child-remediation", assignment)
    return "Remediations_CreateOrUpdateAtManagementGroup", {"parameters": params, "responses": responses}


def policy_assignment_with_a_user_assigned_identity() -> tuple[str, dict[str, Any]]:
    """An assignment whose identity is a user-assigned identity in another, unseen subscription."""
    identity_id = (
        f"/subscriptions/{IDENTITY_SUBSCRIPTION}/resourceGroups/rg-identities-held-out/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-held-out"
    )
    definition = (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/policyDefinitions/held-out-definition"
    )
    body = {
        "location": "westeurope",
        "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
        "properties": {"displayName": "Held out", "policyDefinitionId": definition},
    }
    params = {"scope": f"subscriptions/{SUBSCRIPTION}", "policyAssignmentName": "held-out-uai-assignment",
              "api-version": "2025-03-01", "parameters": body}  # fmt: skip
    shown = {
        "id": _assignment_at(f"/subscriptions/{SUBSCRIPTION}", "held-out-uai-assignment"),
        "name": "held-out-uai-assignment",
        "type": "Microsoft.Authorization/policyAssignments",
        "location": "westeurope",
        "identity": {
            "type": "UserAssigned",
            "userAssignedIdentities": {
                identity_id: {
                    "principalId": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
                    "clientId": "1a2b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d",
                }
            },
        },
        "properties": {
            "displayName": "Held out",
            "policyDefinitionId": definition,
            "enforcementMode": "Default",
            "scope": f"/subscriptions/{SUBSCRIPTION}",
            "notScopes": [],
        },
    }
    return "PolicyAssignments_Create", {"parameters": params, "responses": {"201": {"body": shown}}}


def configuration_assignment_on_a_child_resource() -> tuple[str, dict[str, Any]]:
    """A maintenance assignment on a scale set's VM: resource group, parent and child never seen."""
    configuration = (
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-schedules-held-out/providers/"
        "Microsoft.Maintenance/maintenanceConfigurations/held-out-schedule"
    )
    resource = (
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-held-out/providers/Microsoft.Compute/"
        "virtualMachineScaleSets/vmss-held-out/virtualMachines/vm-held-out"
    )
    body = {"properties": {"maintenanceConfigurationId": configuration}}
    params = {"subscriptionId": SUBSCRIPTION, "resourceGroupName": "rg-held-out", "providerName": "Microsoft.Compute",
              "resourceParentType": "virtualMachineScaleSets", "resourceParentName": "vmss-held-out",
              "resourceType": "virtualMachines", "resourceName": "vm-held-out",
              "configurationAssignmentName": "held-out-assignment", "api-version": "2023-04-01",
              "configurationAssignment": body}  # fmt: skip
    shown = {
        "id": f"{resource}/providers/Microsoft.Maintenance/configurationAssignments/held-out-assignment",
        "name": "held-out-assignment",
        "type": "Microsoft.Maintenance/configurationAssignments",
        "properties": {"maintenanceConfigurationId": configuration, "resourceId": resource},
    }
    return "ConfigurationAssignments_CreateOrUpdateParent", {
        "parameters": params,
        "responses": {"200": {"body": shown}},
    }


def resource_graph_query_over_management_groups() -> tuple[str, dict[str, Any]]:
    """A Resource Graph query scoped to management groups named nowhere else; its rows are below them."""
    kind = "microsoft.compute/virtualmachines"
    rows: list[dict[str, Any]] = [
        {"id": f"{VMS}/{n}", "name": n, "type": kind, "location": "westeurope", "tags": {}}
        for n in ("vm-held-out-1", "vm-held-out-2")
    ]
    kql = "Resources | where type =~ 'microsoft.compute/virtualmachines' | project id, name, type, location, tags"
    query = {"managementGroups": ["mg-held-out-root", "mg-held-out-prod"], "query": kql}
    body = {"totalRecords": 2, "count": 2, "resultTruncated": "false", "data": rows}
    params = {"api-version": "2021-03-01", "query": query}
    return "Resources", {"parameters": params, "responses": {"200": {"body": body}}}


def policy_states_of_an_initiative_member() -> tuple[str, dict[str, Any]]:
    """Policy states of one member of an initiative, in a subscription and group named nowhere else."""
    assignment = _assignment_at(f"/subscriptions/{SUBSCRIPTION}", "held-out-initiative-assignment")
    set_id = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/policySetDefinitions/held-out-set"
    row = {
        "timestamp": "2026-01-02T03:04:05Z",
        "resourceId": f"{VMS}/vm-x",
        "policyAssignmentId": assignment,
        "policyDefinitionId": SCHEDULING_DEFINITION,
        "policySetDefinitionId": set_id,
        "policyDefinitionReferenceId": "held-out-member",
        "isCompliant": False,
        "complianceState": "NonCompliant",
        "subscriptionId": SUBSCRIPTION,
    }
    params = {"policyStatesResource": "latest", "subscriptionId": SUBSCRIPTION, "api-version": "2019-10-01"}
    return "PolicyStates_ListQueryResultsForSubscription", {
        "parameters": params,
        "responses": {"200": {"body": {"value": [row]}}},
    }


def remediation_in_a_placeholder_subscription() -> tuple[str, dict[str, Any]]:
    """A subscription named with a word, as many newer examples do (ARM itself wants a GUID)."""
    assignment = _assignment_at("/subscriptions/subid", "held-out-word-assignment")
    shown = _remediation("/subscriptions/subid", "held-out-word-remediation", assignment)["200"]
    params = {"subscriptionId": "subid", "remediationName": "held-out-word-remediation",
              "api-version": REMEDIATIONS_VERSION}  # fmt: skip
    return "Remediations_GetAtSubscription", {"parameters": params, "responses": {"200": shown}}


def policy_states_next_link() -> tuple[str, dict[str, Any]]:
    """The next page of a policy-states query, at the link a first page gave."""
    link = (
        f"https://management.azure.com/subscriptions/{SUBSCRIPTION}/providers/Microsoft.PolicyInsights/policyStates/"
        "latest/queryResults?api-version=2019-10-01&$skipToken=HeldOutToken"
    )
    params = {"nextLink": link, "api-version": "2019-10-01", "$skipToken": "HeldOutToken"}
    return "PolicyStates_NextLink", {"parameters": params, "responses": {"200": {"body": {"value": []}}}}


REPLAYED = {
    "HeldOut_Remediation_SubscriptionOfManagementGroupAssignment.json": (
        subscription_remediation_of_a_management_group_assignment
    ),
    "HeldOut_Remediation_ChildManagementGroup.json": management_group_remediation_of_a_parent_group_assignment,
    "HeldOut_PolicyAssignment_UserAssignedIdentity.json": policy_assignment_with_a_user_assigned_identity,
    "HeldOut_ConfigurationAssignment_Parent.json": configuration_assignment_on_a_child_resource,
    "HeldOut_ResourceGraph_ManagementGroups.json": resource_graph_query_over_management_groups,
    "HeldOut_PolicyStates_InitiativeMember.json": policy_states_of_an_initiative_member,
    "HeldOut_Remediation_PlaceholderSubscription.json": remediation_in_a_placeholder_subscription,
}
NEXT_LINK = "HeldOut_PolicyStates_NextLink.json"


def test_examples_naming_unseen_scopes_identities_and_parents_replay(specs: SpecFolder, tmp_path: Path) -> None:
    spec_tree(specs.root, tmp_path)
    ids = {}
    for file_name, build in REPLAYED.items():
        operation_id, example = build()
        ids[file_name] = add_example(tmp_path, operation_id, file_name, example)
    operation_id, example = policy_states_next_link()
    next_link = add_example(tmp_path, operation_id, NEXT_LINK, example)
    run = replay_folder(tmp_path)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    for name in ids.values():
        assert f"PASSED {REPLAY_TEST}[{name}]" in out, out
        assert f"PASSED {EMPTY_TENANT_TEST}[{name}]" in out, out
    assert f"{next_link}: a {{nextLink}} template" in out, out
    assert f"[{next_link}]" not in out.split("short test summary info")[-1].replace("SKIPPED", ""), out


@pytest.fixture(autouse=True)
def _needs_the_operations(specs: SpecFolder) -> None:
    defined = {op.operation_id for op in specs.operations}
    wanted = {build()[0] for build in REPLAYED.values()} | {policy_states_next_link()[0]}
    if not wanted <= defined:
        pytest.skip(f"{specs.root} defines none of {sorted(wanted - defined)}")
