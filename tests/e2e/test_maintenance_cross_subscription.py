"""A run scoped to one subscription still sees the configuration its machines are assigned to
when the configuration is kept centrally in another subscription."""

from __future__ import annotations

from remediator import Scope
from tests.data.maintenance.estates import SUB_A, SUB_B, assignment, configuration, estate, group, vm
from tests.playbook_harness import run_through_emulator, statuses


def test_scoped_run_reads_the_central_configuration_and_fixes_the_machine() -> None:
    central = configuration(SUB_A, "rg-central", "nightly")
    machine = vm(SUB_B, "rg-app", "win-b", patch_mode="AutomaticByOS", bypass=None)
    doc = estate(
        group(SUB_A, "rg-central"),
        group(SUB_B, "rg-app"),
        central,
        machine,
        assignment(machine["id"], central),
    )
    result = run_through_emulator(doc, playbooks=["schedule-prerequisites"], scope=Scope(subscriptions=(SUB_B,)))
    assert result.errors == ()
    assert [c.resource_id for c in result.first.changes] == [machine["id"]]
    assert "nightly" in result.first.findings[0].detail or "nightly" in str(result.first.findings[0].data)
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()


def test_a_moved_machine_tagged_ignore_is_not_put_on_the_schedule() -> None:
    from tests.e2e.test_maintenance_playbooks import moved_estate

    doc = moved_estate()
    for resource in doc["resources"]:
        if resource["id"].lower().endswith("/virtualmachines/app1") and "/rg-new/" in resource["id"].lower():
            resource["tags"] = {"aum-remediator": "ignore"}
    result = run_through_emulator(doc, playbooks=["maintenance-moved-resource"])
    assert not any(c.action == "create-configuration-assignment" for c in result.first.changes)
    # Nothing is deleted either: the delete depends on the create that was left out.
    assert not any(c.action == "delete-configuration-assignment" for c in result.first.changes)


def test_a_machine_moved_to_a_subscription_outside_the_run_is_still_found() -> None:
    central = configuration(SUB_A, "rg-central", "nightly")
    old_id = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/app7"
    moved = vm(SUB_B, "rg-new", "app7")
    doc = estate(
        group(SUB_A, "rg-central"),
        group(SUB_A, "rg-old"),
        group(SUB_B, "rg-new"),
        central,
        moved,
        assignment(old_id, central),
    )
    # The run covers only the subscription the machine left; it moved to SUB_B.
    result = run_through_emulator(doc, playbooks=["maintenance-moved-resource"], scope=Scope(subscriptions=(SUB_A,)))
    actions = sorted(
        (c.action, c.resource_id.split("/providers/Microsoft.Maintenance")[0]) for c in result.first.changes
    )
    assert actions == [("create-configuration-assignment", moved["id"]), ("delete-configuration-assignment", old_id)]
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
