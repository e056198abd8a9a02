"""Policy assignments and definitions in the emulator, and the linked resources a remediation reads.

Driven by the unmodified azure-mgmt-resource-policy client at the api-version our Azure layer pins.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.resource.policy import PolicyClient

from remediator.azure.clients import POLICY_API_VERSION
from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc


def _policy(served: Served) -> PolicyClient:
    return PolicyClient(served.credential(), b.S1, api_version=POLICY_API_VERSION, **served.client_kwargs())


def test_assignment_put_fills_identities_and_lists_see_inherited_ones(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone())
    policy = _policy(served)
    created = policy.policy_assignments.create(
        b.rg_id(b.S1, "vms").lstrip("/"),
        "new-assessment",
        {
            "location": "westeurope",
            "identity": {"type": "SystemAssigned"},
            "properties": {"policyDefinitionId": b.VM_ASSESSMENT},
        },
    )
    assert created.identity.type == "SystemAssigned" and created.identity.principal_id
    assert created.scope == b.rg_id(b.S1, "vms")
    again = policy.policy_assignments.get_by_id(created.id)
    assert again.identity.principal_id == created.identity.principal_id
    user = policy.policy_assignments.create(
        b.sub_id(b.S1).lstrip("/"),
        "with-uai",
        {
            "location": "westeurope",
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {sc.UAI["id"]: {}}},
            "properties": {"policyDefinitionId": b.PREREQUISITES},
        },
    )
    assert user.identity.user_assigned_identities[sc.UAI["id"]].principal_id == sc.P_UAI
    at_group = {a.name for a in policy.policy_assignments.list_for_resource_group("vms")}
    assert {"new-assessment", "prereq-off", "vm-assessment", "aum-baseline"} <= at_group  # incl. inherited
    exact = {a.name for a in policy.policy_assignments.list_for_resource_group("vms", filter="atExactScope()")}
    assert exact == {"new-assessment", "prereq-off"}
    under_mg = {a.name for a in policy.policy_assignments.list_for_management_group(b.MG, filter="atScope()")}
    assert under_mg == {"aum-baseline"}


def test_builtin_and_custom_definitions(emulator_factory: Callable[..., Served]) -> None:
    policy = _policy(emulator_factory(sc.landing_zone()))
    builtin = policy.policy_definitions.get_built_in("59efceea-0c96-497e-a4a1-4eb2290dac15")
    assert builtin.policy_rule["then"]["effect"] == "modify"
    custom = policy.policy_definitions.get("tag-vms")
    assert custom.policy_type == "Custom"
    initiative = policy.policy_set_definitions.get_at_management_group(b.MG, "aum-baseline")
    assert [d.policy_definition_reference_id for d in initiative.policy_definitions] == ["prereq", "audit"]
    listed = {d.name for d in policy.policy_definitions.list()}
    assert {"tag-vms", "59efceea-0c96-497e-a4a1-4eb2290dac15"} <= listed


def test_encrypted_disk_in_another_subscription_needs_read_access(emulator_factory: Callable[..., Served]) -> None:
    des = f"{b.rg_id(b.S2, 'keys')}/providers/Microsoft.Compute/diskEncryptionSets/des1"
    encrypted = b.vm(b.S1, "vms", "vm-encrypted", attach=True, os_profile=False, encryption_set=des)
    data = sc.landing_zone()
    data["resources"] += [encrypted, b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "c1")]
    data["policyStates"].append(b.state(encrypted, sc.A_OLD, b.VM_ASSESSMENT))
    served = emulator_factory(data)
    client = PolicyInsightsClient(served.credential(), b.S1, **served.client_kwargs())
    body = {"properties": {"policyAssignmentId": sc.A_OLD["id"], "filters": {"resourceIds": [encrypted["id"]]}}}
    client.remediations.create_or_update_at_resource(
        encrypted["id"].lstrip("/"), "at-vm", json.dumps(body).encode(), api_version="2024-10-01"
    )
    for _ in range(4):
        task = client.remediations.get_at_resource(encrypted["id"].lstrip("/"), "at-vm")
    assert task.provisioning_state == "Failed"
    [deployment] = client.remediations.list_deployments_at_resource(encrypted["id"].lstrip("/"), "at-vm")
    assert deployment.error.code == "AuthorizationFailed"
    assert "Microsoft.Compute/diskEncryptionSets/read" in deployment.error.message and des in deployment.error.message
    listed = list(client.remediations.list_for_resource(encrypted["id"].lstrip("/"), query_options=None))
    assert [r.name for r in listed] == ["at-vm"]


def test_remediating_assignments_need_an_identity_audit_ones_do_not(emulator_factory: Callable[..., Served]) -> None:
    policy = _policy(emulator_factory(sc.landing_zone()))
    scope = b.sub_id(b.S1).lstrip("/")
    with pytest.raises(HttpResponseError) as refused:
        policy.policy_assignments.create(scope, "no-identity", {"properties": {"policyDefinitionId": b.VM_ASSESSMENT}})
    assert refused.value.status_code == 400 and "managed identity" in str(refused.value.message)
    audit = policy.policy_assignments.create(scope, "audit", {"properties": {"policyDefinitionId": b.AUDIT_ASSESSMENT}})
    assert audit.name == "audit"
    disabled = policy.policy_assignments.create(
        scope,
        "prereq-disabled",
        {"properties": {"policyDefinitionId": b.PREREQUISITES, "parameters": {"effect": {"value": "Disabled"}}}},
    )
    assert disabled.parameters["effect"].value == "Disabled"
