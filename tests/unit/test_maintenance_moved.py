"""maintenance-moved-resource: pure detect/plan on in-memory estates."""

from __future__ import annotations

from typing import Any

from playbooks.maintenance_moved_resource import PLAYBOOK
from remediator import Context, Finding
from tests.data.maintenance.estates import (
    SUB_A,
    SUB_B,
    apply_update,
    assignment,
    configuration,
    estate,
    group,
    to_estate,
    vm,
)

CFG = configuration(SUB_A, "rg-maint", "nightly")
OLD_VM_ID = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/app1"


def moved_scenario(*extra: dict[str, Any]) -> dict[str, Any]:
    moved = vm(SUB_B, "rg-new", "app1")
    healthy = vm(SUB_A, "rg-old", "app2")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-old"),
        group(SUB_B, "rg-new"),
        CFG,
        moved,
        healthy,
        assignment(OLD_VM_ID, CFG),
        assignment(str(healthy["id"]), CFG),
        *extra,
    )


def detect(doc: dict[str, Any]) -> tuple[Context, list[Finding]]:
    ctx = Context(estate=to_estate(doc))
    return ctx, list(PLAYBOOK.detect(ctx))


def test_moved_vm_gets_the_assignment_first_then_the_stale_one_goes() -> None:
    ctx, findings = detect(moved_scenario())
    (finding,) = findings
    assert finding.fixable and finding.resource_id.lower().startswith(OLD_VM_ID.lower())
    create, delete = PLAYBOOK.plan(ctx, finding)
    assert create.action == "create-configuration-assignment"
    assert create.resource_id == (
        f"/subscriptions/{SUB_B}/resourceGroups/rg-new/providers/Microsoft.Compute/virtualMachines/app1"
        "/providers/Microsoft.Maintenance/configurationAssignments/nightly"
    )
    assert create.after == {"maintenanceConfigurationId": CFG["id"]}
    assert delete.action == "delete-configuration-assignment"
    assert delete.resource_id == finding.resource_id
    assert create.order < delete.order
    assert delete.depends_on == (create.id,)


def test_rerun_after_a_crash_between_create_and_delete_only_deletes() -> None:
    moved_id = f"/subscriptions/{SUB_B}/resourceGroups/rg-new/providers/Microsoft.Compute/virtualMachines/app1"
    ctx, findings = detect(moved_scenario(assignment(moved_id, CFG)))
    (finding,) = findings
    (delete,) = PLAYBOOK.plan(ctx, finding)
    assert delete.action == "delete-configuration-assignment"
    assert delete.depends_on == ()


def test_no_candidate_or_several_gives_the_manual_steps() -> None:
    gone = assignment(
        f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/ghost", CFG
    )
    twin_a = vm(SUB_A, "rg-x", "app1")
    doc = moved_scenario(gone, group(SUB_A, "rg-x"), twin_a)
    ctx, findings = detect(doc)
    assert len(findings) == 2
    for finding in findings:
        assert not finding.fixable
        assert "move the machine back" in finding.detail
        assert list(PLAYBOOK.plan(ctx, finding)) == []
    counts = sorted(len(f.data["candidates"]) for f in findings)
    assert counts == [0, 2]


def test_healthy_estate_has_no_findings() -> None:
    healthy = vm(SUB_A, "rg-old", "app2")
    doc = estate(group(SUB_A, "rg-maint"), group(SUB_A, "rg-old"), CFG, healthy, assignment(str(healthy["id"]), CFG))
    assert detect(doc)[1] == []


def test_machine_that_left_its_dynamic_scope_is_reported_with_the_excluding_filter() -> None:
    scope_filter = {"tagSettings": {"tags": {"patchgroup": ["night"]}, "filterOperator": "All"}}
    dropped = vm(SUB_A, "rg-old", "db1", tags={"patchgroup": "weekend"})
    kept = vm(SUB_A, "rg-old", "db2", tags={"patchgroup": "night"})
    moved_out = vm(SUB_B, "rg-new", "db3", tags={"patchgroup": "night"})
    old_db3 = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/db3"
    doc = estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-old"),
        group(SUB_B, "rg-new"),
        CFG,
        dropped,
        kept,
        moved_out,
        assignment(f"/subscriptions/{SUB_A}", CFG, name="night-scope", filter_=scope_filter),
        apply_update(str(dropped["id"]), CFG, "2026-11-20T22:00:00Z"),
        apply_update(str(kept["id"]), CFG, "2026-11-20T22:00:00Z"),
        apply_update(old_db3, CFG, "2026-11-20T22:00:00Z"),
        # Too old to say anything about today's scopes.
        apply_update(str(vm(SUB_A, "rg-old", "db4")["id"]), CFG, "2026-08-01T22:00:00Z"),
    )
    doc["resources"].append(vm(SUB_A, "rg-old", "db4"))
    _, findings = detect(doc)
    by_name = {f.resource_id.split("/")[-1]: f for f in findings}
    assert set(by_name) == {"db1", "db3"}
    assert "tagSettings" in by_name["db1"].detail
    assert "has since moved" in by_name["db3"].detail and "the scope is" in by_name["db3"].detail
    assert not any(f.fixable for f in findings)


def test_a_machine_created_after_the_old_one_last_ran_is_not_taken_for_the_moved_one() -> None:
    # The old app1 ran "nightly" on 20 November; the app1 in rg-new was created on the 24th: a new
    # machine that took the name (a move keeps timeCreated, as it keeps vmId), so nothing is moved.
    newer = estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-old"),
        group(SUB_B, "rg-new"),
        CFG,
        vm(SUB_B, "rg-new", "app1", time_created="2026-11-24T00:00:00Z"),
        assignment(OLD_VM_ID, CFG),
        apply_update(OLD_VM_ID, CFG, "2026-11-20T22:00:00Z"),
    )
    (finding,) = detect(newer)[1]
    assert not finding.fixable
    assert "created after this one last ran a schedule" in finding.detail
    # The same machine created before that run is the moved one.
    older = estate(
        *[r for r in newer["resources"] if r.get("type") != "Microsoft.Compute/virtualMachines"],
        vm(SUB_B, "rg-new", "app1", time_created="2026-01-01T00:00:00Z"),
    )
    (finding,) = detect(older)[1]
    assert finding.fixable
