"""Guards where writes happen (issue 13, defect 3): whatever a plan or playbook says, `AzureBackend`
never grants Owner / User Access Administrator, never writes outside the run's scope, and never sends
an id with '..', an empty segment or a percent-encoded separator. Nothing reaches the emulator."""

from __future__ import annotations

import pytest

from remediator.errors import ArmOperationError
from remediator.model import Change, Scope
from tests.e2e.test_arc_compute_provider import ARC_NOT_REGISTERED, ARC_UNREGISTERED, estate
from tests.playbook_harness import harness

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb7-a5e8-5773ddee246b"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"


def _register(resource_id: str) -> Change:
    return Change(
        finding_id="f-forged",
        playbook="arc-compute-provider",
        resource_id=resource_id,
        action="register-provider",
        before={"registrationState": "NotRegistered"},
        after={"registrationState": "Registered"},
        params={"namespace": "Microsoft.Compute"},
    )


def _grant(role: str, scope: str = f"/subscriptions/{ARC_NOT_REGISTERED}") -> Change:
    return Change(
        finding_id="f-forged",
        playbook="policy-identity-roles",
        resource_id=f"{scope}/providers/Microsoft.Authorization/roleAssignments/0d3a8f3e-0000-4000-8000-000000000001",
        action="create-role-assignment",
        before={"principalId": None, "roleDefinitionId": None},
        after={"principalId": "x", "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{role}"},
        params={
            "scope": scope,
            "name": "0d3a8f3e-0000-4000-8000-000000000001",
            "principal_id": "11111111-2222-3333-4444-555555555555",
            "role_definition_id": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principal_type": "ServicePrincipal",
        },
    )


SUB = f"/subscriptions/{ARC_NOT_REGISTERED}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_grant(OWNER), "never grants Owner"),
        (_grant(USER_ACCESS_ADMINISTRATOR), "never grants User Access Administrator"),
        (_register(f"{SUB}/resourceGroups/../providers/Microsoft.Compute"), "'..' segment"),
        (_register(f"{SUB}//providers/Microsoft.Compute"), "empty"),
        (_register(f"{SUB}/resourceGroups/a%2F..%2Fb/providers/Microsoft.Compute"), "percent-encoded"),
        (_register(f"/subscriptions/{ARC_UNREGISTERED}/providers/Microsoft.Compute"), "above the run's scope"),
        (_register("/providers/Microsoft.Management/managementGroups/mg-root"), "above the run's scope"),
        # Contributor on a whole subscription the run does not cover.
        (_grant(CONTRIBUTOR, f"/subscriptions/{ARC_UNREGISTERED}"), "above the run's scope"),
    ],
)
def test_a_write_the_rules_forbid_is_refused_before_it_is_sent(change: Change, message: str) -> None:
    with harness(estate(), ["arc-compute-provider"], scope=Scope(subscriptions=(ARC_NOT_REGISTERED,))) as h:
        h.plan()  # the inventory resolves the run's scope
        before = len(h.emulator.request_log)
        with pytest.raises(ArmOperationError) as caught:
            h.engine.backend.execute(change)
        assert caught.value.code == "WriteRefused"
        assert message in caught.value.detail
        assert len(h.emulator.request_log) == before  # nothing was sent


def test_a_resource_group_in_another_subscription_is_not_above_the_scope() -> None:
    # A policy identity must read a gallery image in a shared subscription; the grant is that narrow.
    elsewhere = f"/subscriptions/{ARC_UNREGISTERED}/resourceGroups/arc-rg"
    with harness(estate(), ["arc-compute-provider"], scope=Scope(subscriptions=(ARC_NOT_REGISTERED,))) as h:
        h.plan()
        # The guard lets it through: ARM itself answers (this estate has no such principal).
        with pytest.raises(ArmOperationError) as caught:
            h.engine.backend.execute(_grant(CONTRIBUTOR, elsewhere))
        assert caught.value.code == "PrincipalNotFound"
        puts = [e for e in h.emulator.request_log if e.method == "PUT" and "roleassignments" in e.path.lower()]
        assert puts and puts[0].path.lower().startswith(elsewhere.lower())


def test_the_same_write_inside_the_rules_goes_through() -> None:
    with harness(estate(), ["arc-compute-provider"], scope=Scope(subscriptions=(ARC_NOT_REGISTERED,))) as h:
        h.plan()
        h.engine.backend.execute(_register(f"{SUB}/providers/Microsoft.Compute"))
        assert h.emulator.provider_state(ARC_NOT_REGISTERED, "Microsoft.Compute") == "Registered"
