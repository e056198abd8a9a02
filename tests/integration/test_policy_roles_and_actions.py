"""Role assignments in the emulator, and the policy actions of remediator.azure, over real SDK clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from playbooks.policy._policy_rbac import role_assignment_name
from remediator.azure import ApplySettings, AzureBackend
from remediator.emulator import Emulator
from remediator.errors import ArmOperationError
from remediator.model import Change
from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

FAST = ApplySettings(
    remediation_timeout=30,
    remediation_poll_interval=0.01,
    principal_propagation_timeout=0.3,
    principal_poll_interval=0.05,
    lro_poll_interval=0.01,
    http_retry_backoff_factor=0.01,
)
ROLE = f"/subscriptions/{b.S1}/providers/Microsoft.Authorization/roleDefinitions/{b.CONTRIBUTOR}"


def _auth(served: Served) -> Any:
    return AuthorizationManagementClient(served.credential(), b.S1, api_version="2022-04-01", **served.client_kwargs())


def _params(principal: str, role: str = ROLE) -> RoleAssignmentCreateParameters:
    return RoleAssignmentCreateParameters(
        role_definition_id=role, principal_id=principal, principal_type="ServicePrincipal"
    )


def test_role_assignment_refusals_and_filters(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone())
    auth = _auth(served)
    scope = b.sub_id(b.S1).lstrip("/")
    created = auth.role_assignments.create(scope, "0c6c2b7a-0000-4000-8000-000000000001", _params(sc.P_OLD))
    assert created.scope == b.sub_id(b.S1) and created.principal_id == sc.P_OLD
    with pytest.raises(HttpResponseError) as exists:
        auth.role_assignments.create(scope, "0c6c2b7a-0000-4000-8000-000000000002", _params(sc.P_OLD))
    assert exists.value.status_code == 409 and exists.value.error.code == "RoleAssignmentExists"
    with pytest.raises(HttpResponseError) as unknown:
        auth.role_assignments.create(
            scope, "0c6c2b7a-0000-4000-8000-000000000003", _params("0000dead-0000-4000-8000-000000000000")
        )
    assert unknown.value.status_code == 400 and unknown.value.error.code == "PrincipalNotFound"
    with pytest.raises(HttpResponseError) as not_a_guid:
        auth.role_assignments.create(scope, "contributor-for-policy", _params(sc.P_OLD))
    assert not_a_guid.value.error.code == "InvalidRoleAssignmentId"
    # A principal that only a user-assigned identity resource has is known.
    auth.role_assignments.create(scope, "0c6c2b7a-0000-4000-8000-000000000004", _params(sc.P_UAI))
    # Lists: principal filter sees above and below; atScope() only at or above.
    image_scope = sc.IMAGE_DEFINITION_ID.lstrip("/")
    auth.role_assignments.create(image_scope, "0c6c2b7a-0000-4000-8000-000000000005", _params(sc.P_OLD))
    mine = {a.scope for a in auth.role_assignments.list_for_subscription(filter=f"principalId eq '{sc.P_OLD}'")}
    assert mine == {b.sub_id(b.S1)}  # the image lives in another subscription
    at_image = {a.scope for a in auth.role_assignments.list_for_scope(image_scope, filter="atScope()")}
    assert sc.IMAGE_DEFINITION_ID in at_image and b.MG_ID not in at_image
    at_rg = {
        a.scope for a in auth.role_assignments.list_for_scope(b.rg_id(b.S1, "vms").lstrip("/"), filter="atScope()")
    }
    assert {b.sub_id(b.S1), b.MG_ID} <= at_rg  # inherited from the subscription and the management group
    auth.role_assignments.delete(scope, "0c6c2b7a-0000-4000-8000-000000000001")
    assert all(a.name != "0c6c2b7a-0000-4000-8000-000000000001" for a in auth.role_assignments.list_for_subscription())


def test_role_definitions_are_served_at_every_scope(emulator_factory: Callable[..., Served]) -> None:
    auth = _auth(emulator_factory(sc.landing_zone()))
    contributor = auth.role_definitions.get(b.sub_id(b.S1).lstrip("/"), b.CONTRIBUTOR)
    assert contributor.role_name == "Contributor"
    by_name = list(
        auth.role_definitions.list(b.sub_id(b.S1).lstrip("/"), filter="roleName eq 'Virtual Machine Contributor'")
    )
    assert [d.name for d in by_name] == [b.VM_CONTRIBUTOR]


@pytest.fixture
def backend() -> Iterator[Callable[[dict[str, Any]], tuple[Emulator, AzureBackend]]]:
    with ExitStack() as stack:

        def start(estate: dict[str, Any]) -> tuple[Emulator, AzureBackend]:
            emulator = Emulator.load(estate)
            endpoint = stack.enter_context(emulator.serve(port=0))
            azure = AzureBackend.for_endpoint(endpoint, FAST)
            stack.callback(azure.close)
            return emulator, azure

        yield start


def _grant(scope: str, principal: str) -> Change:
    name = role_assignment_name(scope, principal, b.CONTRIBUTOR)
    return Change(
        finding_id="f-test",
        playbook="policy-identity-roles",
        resource_id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        action="create-role-assignment",
        before={"principalId": None, "roleDefinitionId": None},
        after={
            "principalId": principal,
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{b.CONTRIBUTOR}",
        },
        params={
            "scope": scope,
            "name": name,
            "principal_id": principal,
            "role_definition_id": ROLE,
            "principal_type": "ServicePrincipal",
        },
    )


def _remediate(name: str, assignment_id: str, **extra: Any) -> Change:
    return Change(
        finding_id="f-test",
        playbook="policy-remediation",
        resource_id=f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/{name}",
        action="create-remediation",
        before={"provisioningState": None},
        after={"provisioningState": "Succeeded"},
        params={
            "scope": b.sub_id(b.S1),
            "name": name,
            "api_version": "2024-10-01",
            "body": {"properties": {"policyAssignmentId": assignment_id, **extra}},
            "resource_ids": [sc.VM_GALLERY["id"]],
        },
    )


def test_create_remediation_reports_each_machine_and_fails_on_authorization(backend: Any) -> None:
    _, azure = backend(sc.landing_zone())
    change = _remediate("first", sc.A_OLD["id"])
    assert azure.read_state(change) == {"provisioningState": None}
    with pytest.raises(ArmOperationError) as failed:
        azure.execute(change)
    assert failed.value.code == "AuthorizationFailed"
    assert "1/2 deployments succeeded" in failed.value.detail
    assert "vm-gallery: AuthorizationFailed" in failed.value.detail and sc.P_OLD in failed.value.detail
    assert "succeeded: vm-restored" in failed.value.detail
    assert azure.read_state(change) == {"provisioningState": "Failed"}
    grant = _grant(sc.IMAGE_DEFINITION_ID, sc.P_OLD)
    assert azure.read_state(grant) == {"principalId": None, "roleDefinitionId": None}
    assert "assigned role" in azure.execute(grant)
    assert azure.read_state(grant) == dict(grant.after)
    retry = _remediate("second", sc.A_OLD["id"], filters={"resourceIds": [sc.VM_GALLERY["id"]]})
    detail = azure.execute(retry)
    assert "Succeeded, 1/1 deployments succeeded (vm-gallery)" in detail
    assert azure.read_state(retry) == {"provisioningState": "Succeeded"}


def test_create_role_assignment_counts_an_existing_grant_as_done(backend: Any) -> None:
    emulator, azure = backend(sc.landing_zone())
    # Someone granted the same role by hand under another name.
    emulator.state.store.put(b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "by-hand"))
    grant = _grant(b.sub_id(b.S1), sc.P_OLD)
    assert azure.read_state(grant) == dict(grant.after)  # the engine would say noop
    assert "RoleAssignmentExists" in azure.execute(grant)


def test_create_role_assignment_for_an_unknown_principal_fails_after_bounded_retries(backend: Any) -> None:
    _, azure = backend(sc.landing_zone())
    with pytest.raises(ArmOperationError) as failed:
        azure.execute(_grant(b.sub_id(b.S1), "0000dead-0000-4000-8000-000000000000"))
    assert failed.value.code == "PrincipalNotFound"


def test_create_role_assignment_at_a_management_group(backend: Any) -> None:
    emulator, azure = backend(sc.landing_zone())
    name = role_assignment_name(b.MG_ID, sc.P_OLD, b.CONTRIBUTOR)
    grant = Change(
        finding_id="f-test",
        playbook="policy-identity-roles",
        resource_id=f"{b.MG_ID}/providers/Microsoft.Authorization/roleAssignments/{name}",
        action="create-role-assignment",
        before={"principalId": None, "roleDefinitionId": None},
        after={
            "principalId": sc.P_OLD,
            "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{b.CONTRIBUTOR}",
        },
        params={
            "scope": b.MG_ID,
            "name": name,
            "principal_id": sc.P_OLD,
            "role_definition_id": f"/providers/Microsoft.Authorization/roleDefinitions/{b.CONTRIBUTOR}",
        },
    )
    assert azure.read_state(grant) == dict(grant.before)
    azure.execute(grant)
    assert azure.read_state(grant) == dict(grant.after)
    assert emulator.get(grant.resource_id)["properties"]["scope"] == b.MG_ID
