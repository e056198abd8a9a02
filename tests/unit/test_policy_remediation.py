"""policy-remediation, pure: which machines get a finding, and how tasks are grouped."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from playbooks.policy_remediation import PLAYBOOK
from remediator import Change, ConfigError, Context, Finding
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc


def _run(data: dict[str, Any], **options: Any) -> tuple[list[Finding], list[Change]]:
    ctx = Context(estate=b.to_estate(data), options=options)
    findings = list(PLAYBOOK.detect(ctx))
    # Every machine of a group plans its group's task; the engine keeps one of identical changes.
    unique: dict[tuple[str, str], Change] = {}
    for change in (c for f in findings for c in PLAYBOOK.plan(ctx, f)):
        previous = unique.setdefault((change.action, change.resource_id.lower()), change)
        assert previous.params == change.params
    return findings, list(unique.values())


def test_one_finding_per_machine_and_assignment_reference_with_why_it_was_missed() -> None:
    findings, _ = _run(sc.landing_zone())
    keyed = {(f.resource_id, f.data["assignment_id"], f.data["reference_id"]) for f in findings}
    assert keyed == {
        (sc.VM_RESTORED["id"], sc.A_OLD["id"], ""),
        (sc.VM_GALLERY["id"], sc.A_OLD["id"], ""),
        (sc.VM_RESTORED["id"], sc.A_MG["id"], "prereq"),
        (sc.ARC["id"], sc.A_NO_IDENTITY["id"], ""),
    }
    by_vm = {(f.resource_id, f.data["reference_id"]): f for f in findings}
    restored = by_vm[(sc.VM_RESTORED["id"], "")]
    assert "OS disk was attached" in restored.detail
    assert "no osProfile" in restored.detail
    assert sc.A_OLD["id"] in restored.detail
    gallery = by_vm[(sc.VM_GALLERY["id"], "")]
    assert "specialized gallery image" in gallery.detail
    assert sc.IMAGE_DEFINITION_ID in gallery.detail
    assert "'prereq'" in by_vm[(sc.VM_RESTORED["id"], "prereq")].detail
    assert by_vm[(sc.VM_RESTORED["id"], "prereq")].doc.endswith(
        "#prerequisite-for-scheduled-patching-isnt-set-correctly"
    )


def test_audit_disabled_and_non_aum_assignments_are_never_remediated() -> None:
    findings, changes = _run(sc.landing_zone())
    assignment_ids = {f.data["assignment_id"] for f in findings}
    assert sc.A_DISABLED["id"] not in assignment_ids  # effect parameter resolved to Disabled
    assert sc.A_NON_AUM["id"] not in assignment_ids  # not an Update Manager policy
    assert "audit" not in {f.data["reference_id"] for f in findings}  # Audit member of the initiative
    targeted = {c.params["body"]["properties"]["policyAssignmentId"] for c in changes}
    assert targeted == {sc.A_OLD["id"], sc.A_MG["id"]}


def test_custom_definitions_named_in_config_are_remediated() -> None:
    findings, changes = _run(sc.landing_zone(), custom_definitions=[sc.NON_AUM["id"]])
    assert any(f.data["assignment_id"] == sc.A_NON_AUM["id"] for f in findings)
    assert any(c.params["body"]["properties"]["policyAssignmentId"] == sc.A_NON_AUM["id"] for c in changes)


def test_assignment_without_identity_is_reported_not_fixed() -> None:
    findings, changes = _run(sc.landing_zone())
    arc = next(f for f in findings if f.resource_id == sc.ARC["id"])
    assert not arc.fixable
    assert "no managed identity" in arc.detail
    assert all(sc.A_NO_IDENTITY["id"] != c.params["body"]["properties"]["policyAssignmentId"] for c in changes)


def test_tasks_grouped_per_assignment_reference_and_scope() -> None:
    _, changes = _run(sc.landing_zone())
    assert {c.action for c in changes} == {"create-remediation"}
    by_assignment = {c.params["body"]["properties"]["policyAssignmentId"]: c for c in changes}
    old = by_assignment[sc.A_OLD["id"]]
    props = old.params["body"]["properties"]
    assert props["filters"] == {"resourceIds": sorted([sc.VM_GALLERY["id"], sc.VM_RESTORED["id"]], key=str.lower)}
    assert "policyDefinitionReferenceId" not in props
    assert props["resourceDiscoveryMode"] == "ExistingNonCompliant"
    assert old.params["scope"] == b.sub_id(b.S1)
    assert old.params["api_version"] == "2024-10-01"  # the first api-version with filters.resourceIds
    assert old.resource_id.startswith(b.sub_id(b.S1) + "/providers/Microsoft.PolicyInsights/remediations/aum-")
    mg = by_assignment[sc.A_MG["id"]]
    assert mg.params["body"]["properties"]["policyDefinitionReferenceId"] == "prereq"
    # Assigned at a management group: the task goes to the machine's subscription by default ...
    assert mg.params["scope"] == b.sub_id(b.S1)
    # ... or at the assignment's own scope when configured.
    _, at_assignment = _run(sc.landing_zone(), task_scope="assignment")
    scopes = {c.params["body"]["properties"]["policyAssignmentId"]: c.params["scope"] for c in at_assignment}
    assert scopes[sc.A_MG["id"]] == b.MG_ID


def test_more_than_100_machines_make_more_tasks() -> None:
    vms = [b.vm(b.S1, "fleet", f"vm-{i:03d}", attach=True) for i in range(205)]
    assignment = b.policy_assignment(b.sub_id(b.S1), "vm-assessment", b.VM_ASSESSMENT, principal=sc.P_OLD)
    data = b.estate([assignment, *vms], [b.state(v, assignment, b.VM_ASSESSMENT) for v in vms])
    findings, changes = _run(data)
    assert len(findings) == 205
    sizes = sorted(len(c.params["body"]["properties"]["filters"]["resourceIds"]) for c in changes)
    assert sizes == [5, 100, 100]
    covered = [i for c in changes for i in c.params["body"]["properties"]["filters"]["resourceIds"]]
    assert sorted(covered) == sorted(v["id"] for v in vms)
    assert len({c.resource_id for c in changes}) == 3
    _, smaller = _run(data, max_resources_per_task=50)
    assert len(smaller) == 5


def test_options_shape_the_task_body() -> None:
    _, changes = _run(
        sc.landing_zone(),
        resource_discovery_mode="ReEvaluateCompliance",
        parallel_deployments=3,
        resource_count=42,
        failure_threshold=0.2,
    )
    props = next(c for c in changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"])
    body = props.params["body"]["properties"]
    # ReEvaluateCompliance cannot be combined with resourceIds: the task filters by location instead.
    assert body["filters"] == {"locations": ["westeurope"]}
    assert body["resourceDiscoveryMode"] == "ReEvaluateCompliance"
    assert props.params["api_version"] == "2021-10-01"
    assert (body["parallelDeployments"], body["resourceCount"], body["failureThreshold"]) == (
        3,
        42,
        {"percentage": 0.2},
    )


def test_no_new_task_while_one_is_running_for_the_same_assignment_and_reference() -> None:
    data = sc.landing_zone()
    for state_name, expect_change in (("Running", False), ("Evaluating", False), ("Accepted", False), ("Failed", True)):
        running = {
            "id": f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/manual",
            "name": "manual",
            "type": "Microsoft.PolicyInsights/remediations",
            "properties": {"policyAssignmentId": sc.A_OLD["id"], "provisioningState": state_name},
        }
        findings, changes = _run({**data, "resources": [*data["resources"], running]})
        old_changes = [c for c in changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]]
        assert bool(old_changes) is expect_change, state_name
        if not expect_change:
            old = next(f for f in findings if f.data["assignment_id"] == sc.A_OLD["id"])
            assert old.data["running_task"] == running["id"]
            # The other assignment's task is unaffected.
            assert any(c.params["body"]["properties"]["policyAssignmentId"] == sc.A_MG["id"] for c in changes)


def test_plan_is_deterministic_and_re_runs_the_same_work_under_its_own_name() -> None:
    data = sc.landing_zone()
    _, first = _run(data)
    _, second = _run(data)
    assert [c.id for c in first] == [c.id for c in second]
    taken = next(c for c in first if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"])
    old_task = {
        "id": taken.resource_id,
        "name": taken.params["name"],
        "type": "Microsoft.PolicyInsights/remediations",
        "properties": {"policyAssignmentId": sc.A_OLD["id"], "provisioningState": "Failed"},
    }
    _, again = _run({**data, "resources": [*data["resources"], old_task]})
    retry = next(c for c in again if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"])
    # A task that failed long ago (no time recorded: past any back-off) is re-run, never "-2".
    assert retry.params["name"] == taken.params["name"]
    assert retry.before == {"provisioningState": "Failed"}


def test_every_machine_of_a_group_plans_the_same_task_so_excluding_one_keeps_it() -> None:
    ctx = Context(estate=b.to_estate(sc.landing_zone()))
    findings = [f for f in PLAYBOOK.detect(ctx) if f.data["assignment_id"] == sc.A_OLD["id"]]
    planned = [list(PLAYBOOK.plan(ctx, f)) for f in findings]
    assert len(findings) == 2 and all(len(p) == 1 for p in planned)
    assert planned[0][0].resource_id == planned[1][0].resource_id
    assert planned[0][0].params == planned[1][0].params


def test_compliant_estate_has_no_findings() -> None:
    data = sc.landing_zone()
    data["policyStates"] = [{**s, "complianceState": "Compliant"} for s in data["policyStates"]]
    assert _run(data) == ([], [])


def test_assignment_the_inventory_could_not_read_is_reported_not_fixed() -> None:
    data = sc.landing_zone()
    data["resources"] = [r for r in data["resources"] if r["id"] not in (sc.A_MG["id"], sc.INITIATIVE["id"])]
    findings, changes = _run(data)
    unseen = next(f for f in findings if f.data["assignment_id"] == sc.A_MG["id"])
    assert not unseen.fixable
    assert "--management-group" in unseen.detail
    assert all(c.params["body"]["properties"]["policyAssignmentId"] != sc.A_MG["id"] for c in changes)
    # A state whose own policyDefinitionAction says audit is left alone even when the assignment is unseen.
    estate = b.to_estate(data)
    audit_states = tuple(
        replace(s, raw={"properties": {"policyDefinitionAction": "audit"}})
        if s.policy_assignment_id == sc.A_MG["id"]
        else s
        for s in estate.policy_states
    )
    audited = Context(estate=replace(estate, policy_states=audit_states))
    assert all(f.data["assignment_id"] != sc.A_MG["id"] for f in PLAYBOOK.detect(audited))


def test_invalid_options_stop_the_run_with_a_clear_message() -> None:
    with pytest.raises(ConfigError, match=r"playbooks\.policy-remediation\.parallel_deployments"):
        _run(sc.landing_zone(), parallel_deployments=50)
    with pytest.raises(ConfigError, match="filters"):
        _run(sc.landing_zone(), filters="resourceIds")


def test_findings_say_which_roles_the_identity_lacks_for_the_machine() -> None:
    findings, _ = _run(sc.landing_zone())
    gallery = next(f for f in findings if f.resource_id == sc.VM_GALLERY["id"])
    gaps = {g["scope"]: g["roles"] for g in gallery.data["role_gaps"]}
    assert gaps == {b.sub_id(b.S1): [b.CONTRIBUTOR], sc.IMAGE_DEFINITION_ID: [b.CONTRIBUTOR]}
    assert "policy-identity-roles grants them" in gallery.detail
    # The initiative's identity holds Contributor at the management group: nothing lacking.
    prereq = next(f for f in findings if f.data["reference_id"] == "prereq")
    assert "role_gaps" not in prereq.data
