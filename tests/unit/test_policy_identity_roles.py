"""policy-identity-roles, pure: which roles an assignment's identity lacks, and where they are granted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playbooks.policy._policy_rbac import role_assignment_name
from playbooks.policy.policy_identity_roles import PLAYBOOK
from remediator import Change, Context, Finding
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc


def _run(data: dict[str, Any], **options: Any) -> tuple[list[Finding], list[Change]]:
    ctx = Context(estate=b.to_estate(data), options=options)
    findings = list(PLAYBOOK.detect(ctx))
    changes = [c for f in findings for c in PLAYBOOK.plan(ctx, f)]
    return findings, changes


def _grants(changes: list[Change]) -> set[tuple[str, str, str]]:
    return {
        (c.params["scope"], c.params["principal_id"], c.params["role_definition_id"].rsplit("/", 1)[-1])
        for c in changes
    }


def test_old_assignment_gets_contributor_at_its_scope_and_at_the_gallery_image() -> None:
    findings, changes = _run(sc.landing_zone())
    assert _grants(changes) == {
        (b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR),
        # The gallery image lives in another subscription: narrowest scope is the image definition.
        (sc.IMAGE_DEFINITION_ID, sc.P_OLD, b.CONTRIBUTOR),
    }
    at_scope = next(f for f in findings if f.data.get("scope") == b.sub_id(b.S1))
    assert "Virtual Machine Contributor" in at_scope.detail and "v4.7.0" in at_scope.detail
    image = next(f for f in findings if f.data.get("scope") == sc.IMAGE_DEFINITION_ID)
    assert "gallery image of vm-gallery" in image.detail


def test_role_assignments_are_named_deterministically_and_ordered_before_remediations() -> None:
    _, changes = _run(sc.landing_zone())
    for change in changes:
        assert change.action == "create-role-assignment"
        assert change.order < 60
        expected = role_assignment_name(change.params["scope"], change.params["principal_id"], b.CONTRIBUTOR)
        assert change.params["name"] == expected
        assert change.resource_id.endswith("/providers/Microsoft.Authorization/roleAssignments/" + expected)
    assert role_assignment_name("/subscriptions/A", "P", "r") == role_assignment_name("/SUBSCRIPTIONS/a", "p", "R")
    assert role_assignment_name("/subscriptions/A", "P", "r") != role_assignment_name("/subscriptions/B", "P", "r")


def test_identity_holding_contributor_at_a_management_group_needs_nothing() -> None:
    findings, _ = _run(sc.landing_zone())
    assert all(f.data.get("assignment_id") != sc.A_MG["id"] for f in findings)


def test_assignment_without_identity_or_with_deleted_identity_is_not_fixable() -> None:
    findings, _ = _run(sc.landing_zone())
    no_identity = next(f for f in findings if f.resource_id == sc.A_NO_IDENTITY["id"])
    assert not no_identity.fixable and "no managed identity" in no_identity.title
    assert not list(PLAYBOOK.plan(Context(estate=b.to_estate(sc.landing_zone())), no_identity))
    data = sc.landing_zone()
    data["resources"] = [r for r in data["resources"] if r["id"] != sc.UAI["id"]]
    findings, _ = _run(data)
    gone = next(f for f in findings if f.resource_id == sc.A_MG["id"])
    assert not gone.fixable and "no longer exists" in gone.title and sc.UAI["id"] in gone.detail


def test_non_aum_and_disabled_assignments_are_ignored() -> None:
    findings, _ = _run(sc.landing_zone())
    ids = {f.resource_id for f in findings}
    assert sc.A_NON_AUM["id"] not in ids and sc.A_DISABLED["id"] not in ids


def test_owner_at_a_parent_scope_covers_and_contributor_covers_vm_contributor() -> None:
    data = sc.landing_zone()
    data["resources"].append(b.role_assignment(b.MG_ID, sc.P_OLD, b.OWNER, "0b6f2d1e-0000-4000-8000-00000000000a"))
    findings, _ = _run(data)
    # Owner at the management group covers the subscription, not the image in the other subscription.
    assert {f.data["scope"] for f in findings if f.data.get("principal_id") == sc.P_OLD} == {sc.IMAGE_DEFINITION_ID}
    custom = b.custom_definition(b.sub_id(b.S1), "vmc-policy", "modify", [b.VM_CONTRIBUTOR])
    assignment = b.policy_assignment(
        b.sub_id(b.S1), "vmc", custom["id"], principal="aaaaaaaa-9999-4999-8999-000000000009"
    )
    holder = b.role_assignment(b.sub_id(b.S1), "aaaaaaaa-9999-4999-8999-000000000009", b.CONTRIBUTOR, "x1")
    extra = b.estate([custom, assignment, holder], [])
    assert _run(extra, custom_definitions=[custom["id"]]) == ([], [])


def test_never_broader_than_config_allows() -> None:
    data = sc.landing_zone()
    # Pretend the MG initiative's identity has nothing: it needs Contributor at the management group.
    data["resources"] = [r for r in data["resources"] if not r["id"].endswith("0b6f2d1e-0000-4000-8000-000000000002")]
    _, changes = _run(data)
    assert (b.MG_ID, sc.P_UAI, b.CONTRIBUTOR) in _grants(changes)
    _, narrowed = _run(data, max_scope="resource_group")
    grants = _grants(narrowed)
    assert all(scope.count("/") >= 4 for scope, _, _ in grants), grants
    assert (b.rg_id(b.S1, "vms"), sc.P_UAI, b.CONTRIBUTOR) in grants
    assert (b.rg_id(b.S1, "vms"), sc.P_OLD, b.CONTRIBUTOR) in grants


def test_linked_role_override_and_forbidden_roles() -> None:
    _, changes = _run(sc.landing_zone(), linked_role=f"/providers/Microsoft.Authorization/roleDefinitions/{b.READER}")
    assert (sc.IMAGE_DEFINITION_ID, sc.P_OLD, b.READER) in _grants(changes)
    _, changes = _run(sc.landing_zone(), linked_role=b.OWNER)
    assert all(role != b.OWNER for _, _, role in _grants(changes))
    owner_policy = b.custom_definition(b.sub_id(b.S1), "owner-policy", "deployIfNotExists", [b.OWNER])
    assignment = b.policy_assignment(b.sub_id(b.S1), "owner", owner_policy["id"], principal=sc.P_CUSTOM)
    findings, changes = _run(b.estate([owner_policy, assignment], []), custom_definitions=[owner_policy["id"]])
    assert [f.fixable for f in findings] == [False] and changes == []
    assert "never grants" in findings[0].title


def test_failed_deployment_scope_is_read_after_the_fact() -> None:
    data = sc.landing_zone()
    des = f"{b.rg_id(b.S2, 'keys')}/providers/Microsoft.Compute/diskEncryptionSets/des1"
    data["resources"].append(
        {
            "id": f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/earlier",
            "name": "earlier",
            "type": "Microsoft.PolicyInsights/remediations",
            "properties": {
                "policyAssignmentId": sc.A_OLD["id"],
                "provisioningState": "Failed",
                "deployments": [
                    {
                        "remediatedResourceId": sc.VM_RESTORED["id"],
                        "status": "Failed",
                        "error": {
                            "code": "AuthorizationFailed",
                            "message": f"The client '{sc.P_OLD}' with object id '{sc.P_OLD}' does not have "
                            f"authorization to perform action 'Microsoft.Compute/diskEncryptionSets/read' over "
                            f"scope '{des}' or the scope is invalid.",
                        },
                    }
                ],
            },
        }
    )
    findings, changes = _run(data)
    assert (des, sc.P_OLD, b.CONTRIBUTOR) in _grants(changes)
    assert (
        "remediation earlier failed: AuthorizationFailed"
        in next(f for f in findings if f.data.get("scope") == des).detail
    )
    _, without = _run(data, read_failed_deployments=False)
    assert (des, sc.P_OLD, b.CONTRIBUTOR) not in _grants(without)


def test_shared_user_assigned_identity_is_granted_once() -> None:
    data = sc.landing_zone()
    second = b.policy_assignment(
        b.sub_id(b.S1), "vm-assessment-2", b.VM_ASSESSMENT, principal=sc.P_OLD, user_identity_id=sc.UAI["id"]
    )
    data["resources"] = [r for r in data["resources"] if r["id"] != sc.A_MG["id"]] + [second]
    _, changes = _run(data)
    keys = [(c.params["scope"].lower(), c.params["principal_id"], c.params["role_definition_id"]) for c in changes]
    assert len(keys) == len(set(keys))


def test_initiative_the_inventory_cannot_read_is_checked_from_its_states() -> None:
    data = sc.landing_zone()
    data["resources"] = [r for r in data["resources"] if r["id"] != sc.INITIATIVE["id"]]
    # Take the initiative identity's management group grant away: it now lacks Contributor.
    data["resources"] = [r for r in data["resources"] if not r["id"].endswith("0b6f2d1e-0000-4000-8000-000000000002")]
    findings, changes = _run(data)
    assert (b.MG_ID, sc.P_UAI, b.CONTRIBUTOR) in _grants(changes)
    assert any(f.resource_id == sc.A_MG["id"] for f in findings)


def test_a_management_group_the_run_cannot_see_is_reported_not_granted() -> None:
    data = sc.landing_zone()
    # A subscription-scoped inventory sees neither the group nor role assignments made at it.
    data["resources"] = [
        r
        for r in data["resources"]
        if r["id"] != b.management_group(b.MG, [])["id"]
        and not r["id"].startswith(b.MG_ID + "/providers/Microsoft.Authorization/roleAssignments")
    ]
    findings, changes = _run(data)
    assert all(principal != sc.P_UAI for _, principal, _ in _grants(changes))  # not at the group, not at the disk
    unverifiable = next(f for f in findings if f.resource_id == sc.A_MG["id"])
    assert not unverifiable.fixable
    assert "--management-group landing-zones" in unverifiable.detail


def test_the_sample_estate_file_matches_its_builder() -> None:
    """tests/data/policy/landing-zone.json is for trying the playbooks by hand (remediator run --estate)."""
    sample = Path(__file__).resolve().parents[1] / "data" / "policy" / "landing-zone.json"
    assert json.loads(sample.read_text()) == sc.landing_zone()


def test_system_identity_without_principal_id_is_unknown_not_deleted() -> None:
    data = sc.landing_zone()
    for resource in data["resources"]:
        if resource["id"] == sc.A_OLD["id"]:
            resource["identity"] = {"type": "SystemAssigned"}
    findings, changes = _run(data)
    unknown = next(f for f in findings if f.resource_id == sc.A_OLD["id"])
    assert not unknown.fixable and "principal is unknown" in unknown.title
    assert all(principal != sc.P_OLD for _, principal, _ in _grants(changes))
