"""lost-schedule end to end: machines whose run history shows a schedule that no assignment gives
them any more, found through the emulator; look-alikes are not; the opt-in fix re-attaches and
planning again finds nothing."""

from __future__ import annotations

from typing import Any

from tests.data.maintenance.estates import SUB_A, SUB_B, apply_update, assignment, configuration, estate, group, vm
from tests.playbook_harness import run_through_emulator, statuses

NIGHTLY = configuration(SUB_A, "rg-maint", "nightly")
WEEKLY = configuration(SUB_A, "rg-maint", "weekly", recur="Week Saturday")


def _created(machine: dict[str, Any], when: str) -> dict[str, Any]:
    machine["properties"]["timeCreated"] = when
    return machine


def scenario() -> dict[str, Any]:
    off = _created(vm(SUB_A, "rg-app", "off", power="deallocated"), "2026-01-01T00:00:00Z")
    moved = _created(vm(SUB_B, "rg-new", "moved"), "2026-01-01T00:00:00Z")
    old_moved = f"/subscriptions/{SUB_A}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/moved"
    kept = _created(vm(SUB_A, "rg-app", "kept"), "2026-01-01T00:00:00Z")
    by_scope = _created(vm(SUB_A, "rg-app", "by-scope", tags={"ring": "1"}), "2026-01-01T00:00:00Z")
    renamed_new = _created(vm(SUB_B, "rg-new", "reused"), "2026-11-25T00:00:00Z")
    old_reused = f"/subscriptions/{SUB_A}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/reused"
    long_ago = _created(vm(SUB_A, "rg-app", "long-ago"), "2026-01-01T00:00:00Z")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        group(SUB_B, "rg-new"),
        NIGHTLY,
        WEEKLY,
        off,
        moved,
        kept,
        by_scope,
        renamed_new,
        long_ago,
        # Shut down, and its assignment is gone.
        apply_update(off["id"], NIGHTLY, "2026-11-20T22:00:00Z"),
        # Moved, and the stale assignment was already cleaned up.
        apply_update(old_moved, NIGHTLY, "2026-11-20T22:00:00Z"),
        # Look-alikes: still assigned; scheduled by a dynamic scope; a different machine that took
        # the name after the run; a run older than the history.
        assignment(kept["id"], NIGHTLY),
        apply_update(kept["id"], NIGHTLY, "2026-11-20T22:00:00Z"),
        assignment(
            f"/subscriptions/{SUB_A}",
            WEEKLY,
            name="ring1",
            filter_={"tagSettings": {"tags": {"ring": ["1"]}, "filterOperator": "All"}},
        ),
        apply_update(by_scope["id"], WEEKLY, "2026-11-21T22:00:00Z"),
        apply_update(old_reused, NIGHTLY, "2026-11-20T22:00:00Z"),
        apply_update(long_ago["id"], NIGHTLY, "2026-09-01T22:00:00Z", name="old"),
    )


def _name(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def test_lost_schedules_are_found_and_reattached_when_opted_in() -> None:
    result = run_through_emulator(scenario(), ["lost-schedule"], fix={"lost-schedule": True})
    by_name = {_name(f.resource_id): f for f in result.first.findings}
    assert set(by_name) == {"off", "moved"}
    assert by_name["off"].doc == "troubleshoot.md#you-cant-apply-patches-for-shut-down-machines"
    assert "deallocated" in by_name["off"].detail
    assert by_name["moved"].doc == "troubleshoot.md#maintenance-configuration-isnt-applied-when-you-move-a-vm"
    assert {c.action for c in result.first.changes} == {"create-configuration-assignment"}
    assert statuses(result.applied) == {"applied"}
    # Apply, then plan again: no changes, nothing lost any more.
    assert result.again.changes == () and result.again.findings == ()


def test_without_the_opt_in_it_only_reports() -> None:
    result = run_through_emulator(scenario(), ["lost-schedule"])
    assert len(result.first.findings) == 2 and result.first.changes == ()
