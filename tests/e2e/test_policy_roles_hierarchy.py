"""Roles held at management groups count, read from Resource Graph's real row shapes.

Resource Graph's management group rows name their ancestors, never their children; a
subscription's groups are in its own row's ``managementGroupAncestorsChain``. The bot must see
a role held above a subscription from those shapes alone (the emulator serves exactly them).
"""

from __future__ import annotations

from typing import Any

from remediator import Scope
from tests.data.maintenance.estates import configuration
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc
from tests.playbook_harness import harness, statuses

BOTH = ["policy-identity-roles", "policy-remediation"]
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


def _grants(changes: Any) -> set[tuple[str, str]]:
    return {
        (c.params["scope"].lower(), c.params["principal_id"]) for c in changes if c.action == "create-role-assignment"
    }


def _role_assignments(emulator: Any) -> list[tuple[str, str, str]]:
    out = []
    for r in emulator.state.store.of_type(ROLE_ASSIGNMENT_TYPE):
        props = r["properties"]
        out.append((props["scope"].lower(), props["principalId"].lower(), props["roleDefinitionId"].rsplit("/", 1)[-1]))
    return out


def _run_twice(data: dict[str, Any], scope: Scope) -> tuple[Any, Any, Any]:
    """Plan, apply, plan again; then a second run: its plan must hold nothing."""
    with harness(data, BOTH, scope=scope) as h:
        first = h.plan().plan
        applied = h.apply(first)
        again = h.plan().plan
        assigned = _role_assignments(h.emulator)
    return first, applied, (again, assigned)


def test_a_subscription_run_grants_nothing_the_identity_holds_at_the_management_group_above() -> None:
    # The initiative's identity holds Contributor at the management group above S1.
    first, applied, (again, assigned) = _run_twice(sc.landing_zone(), Scope(subscriptions=(b.S1,)))

    assert (b.sub_id(b.S1).lower(), sc.P_UAI) not in _grants(first.changes)
    assert not [g for g in _grants(first.changes) if g[1] == sc.P_UAI]
    assert statuses(applied) == {"applied"}
    assert again.changes == ()
    assert len(assigned) == len(set(assigned))  # no role assignment exists twice


def _sibling_estate() -> dict[str, Any]:
    """S1 and S2 under one management group; the VM in S1 was made from a gallery image in S2."""
    data = sc.landing_zone()
    for resource in data["resources"]:
        if resource["id"] == b.MG_ID:
            resource["properties"]["children"].append(
                {"id": b.sub_id(b.S2), "name": b.S2, "type": "/subscriptions", "displayName": b.S2}
            )
    # The management-group initiative covers the gallery VM too.
    data["policyStates"].append(b.state(sc.VM_GALLERY, sc.A_MG, b.PREREQUISITES, reference="prereq"))
    return data


def test_a_linked_image_in_a_sibling_subscription_under_the_same_group_gets_no_grant() -> None:
    first, applied, (again, assigned) = _run_twice(_sibling_estate(), Scope(subscriptions=(b.S1,)))

    mg_identity = [g for g in _grants(first.changes) if g[1] == sc.P_UAI]
    assert mg_identity == []  # Contributor at the group covers the image in S2
    # The old subscription assignment's identity still needs the image (S2 is outside its scope).
    assert (sc.IMAGE_DEFINITION_ID.lower(), sc.P_OLD) in _grants(first.changes)
    assert statuses(applied) == {"applied"}
    assert again.changes == ()
    assert len(assigned) == len(set(assigned))


def test_a_grant_on_a_configuration_in_another_subscription_is_seen_by_the_next_run() -> None:
    # The scheduling policy names a maintenance configuration kept in S2; the run covers S1 only.
    weekly = configuration(b.S2, "maintenance", "weekly", recur="1Week Sunday")
    config = weekly["id"]
    schedule = b.policy_assignment(
        b.sub_id(b.S1),
        "schedule",
        b.SCHEDULING,
        principal=sc.P_OLD,
        parameters={"maintenanceConfigurationResourceId": config},
    )
    data = b.estate(
        [
            b.resource_group(b.S1, "vms"),
            b.resource_group(b.S2, "maintenance"),
            weekly,
            sc.VM_RESTORED,
            schedule,
            b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-0000000000c1"),
        ],
        [b.state(sc.VM_RESTORED, schedule, b.SCHEDULING)],
    )
    with harness(data, ["policy-identity-roles"], scope=Scope(subscriptions=(b.S1,))) as h:
        first = h.plan().plan
        assert _grants(first.changes) == {(config.lower(), sc.P_OLD)}
        assert statuses(h.apply(first)) == {"applied"}
        assert h.plan().plan.changes == ()  # its own grant in S2 is read back, not planned again
