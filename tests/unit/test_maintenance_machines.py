"""patch-orchestration-manual and recreated-machine: pure detect/plan."""

from __future__ import annotations

from typing import Any

from playbooks.maintenance.patch_orchestration_manual import PLAYBOOK as MANUAL
from playbooks.maintenance.recreated_machine import PLAYBOOK as RECREATED
from remediator import Context, Finding
from tests.data.maintenance.estates import (
    SUB_A,
    apply_update,
    assignment,
    configuration,
    estate,
    group,
    to_estate,
    vm,
)

DAILY = configuration(SUB_A, "rg-maint", "daily-22z", start="2026-01-01 22:00")
NO_PATCH = {"aum-patching": "manual"}


def _id(resource: dict[str, Any]) -> str:
    return str(resource["id"])


def run(playbook: Any, doc: dict[str, Any], options: dict[str, Any] | None = None) -> tuple[Context, list[Finding]]:
    ctx = Context(estate=to_estate(doc), options=options or {})
    return ctx, list(playbook.detect(ctx))


def manual_estate() -> dict[str, Any]:
    by_os = vm(SUB_A, "rg-app", "by-os", patch_mode="AutomaticByOS", bypass=None, tags=NO_PATCH)
    by_platform = vm(
        SUB_A,
        "rg-app",
        "by-platform",
        os="Linux",
        patch_mode="AutomaticByPlatform",
        bypass=False,
        tags={"AUM-Patching": "Manual"},
    )
    already = vm(SUB_A, "rg-app", "already", tags=NO_PATCH)
    manual = vm(
        SUB_A, "rg-app", "manual", patch_mode="Manual", bypass=None, enable_automatic_updates=False, tags=NO_PATCH
    )
    scheduled = vm(SUB_A, "rg-app", "scheduled", tags=NO_PATCH)
    untagged = vm(SUB_A, "rg-app", "untagged", patch_mode="AutomaticByOS", bypass=None)
    listed = vm(SUB_A, "rg-app", "listed", patch_mode="AutomaticByOS", bypass=None)
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        DAILY,
        by_os,
        by_platform,
        already,
        manual,
        scheduled,
        untagged,
        listed,
        assignment(_id(scheduled), DAILY),
    )


def test_only_selected_machines_still_patched_automatically() -> None:
    doc = manual_estate()
    listed = _id(vm(SUB_A, "rg-app", "listed"))
    ctx, findings = run(MANUAL, doc, {"machines": [listed.upper()]})
    by_name = {f.resource_id.split("/")[-1]: f for f in findings}
    assert set(by_name) == {"by-os", "by-platform", "scheduled", "listed"}
    assert not by_name["scheduled"].fixable and "daily-22z" in by_name["scheduled"].detail
    assert "Manual cannot be set" in by_name["by-os"].detail
    (change,) = MANUAL.plan(ctx, by_name["by-os"])
    assert change.after == {"patchMode": "AutomaticByPlatform", "bypassPlatformSafetyChecksOnUserSchedule": True}
    (linux,) = MANUAL.plan(ctx, by_name["by-platform"])
    assert linux.before == {"patchMode": "AutomaticByPlatform", "bypassPlatformSafetyChecksOnUserSchedule": False}
    assert list(MANUAL.plan(ctx, by_name["scheduled"])) == []


def test_custom_tag_selector() -> None:
    doc = manual_estate()
    _, findings = run(MANUAL, doc, {"tag": "patching", "tag_value": "none"})
    assert findings == []


def recreated_estate(now: str) -> dict[str, Any]:
    # Re-created 2026-11-26 06:00; the previous instance ran under daily-22z and weekly.
    fresh = vm(SUB_A, "rg-app", "rebuilt", time_created="2026-11-26T06:00:00Z")
    brand_new = vm(SUB_A, "rg-app", "brand-new", time_created="2026-11-26T21:50:00Z")
    old_timer = vm(SUB_A, "rg-app", "old-timer")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        DAILY,
        fresh,
        brand_new,
        old_timer,
        apply_update(_id(fresh), DAILY, "2026-11-25T22:00:00Z"),
        apply_update(_id(old_timer), DAILY, "2026-11-25T22:00:00Z"),
        assignment(_id(brand_new), DAILY),
        assignment(_id(old_timer), DAILY),
        now=now,
    )


def test_dropped_assignment_waits_for_the_buffer_then_is_reattached() -> None:
    ctx, findings = run(RECREATED, recreated_estate("2026-11-26T09:00:00Z"))
    by_key = {(f.resource_id.split("/")[-1], f.key.split(":")[0]): f for f in findings}
    assert set(by_key) == {("rebuilt", "dropped")}
    early = by_key[("rebuilt", "dropped")]
    assert "after 2026-11-26 14:00" in early.detail
    assert list(RECREATED.plan(ctx, early)) == []

    ctx, findings = run(RECREATED, recreated_estate("2026-11-26T15:00:00Z"))
    (later,) = findings
    (change,) = RECREATED.plan(ctx, later)
    assert change.action == "create-configuration-assignment"
    assert change.resource_id.endswith(
        "/virtualMachines/rebuilt/providers/Microsoft.Maintenance/configurationAssignments/daily-22z"
    )


def test_shutdown_or_unresponsive_inside_the_buffer_and_new_machine_delay() -> None:
    doc = recreated_estate("2026-11-26T21:55:00Z")
    # Re-attached already: the window at 22:00 is within 8 hours of the 18:00 re-creation.
    rebuilt = next(r for r in doc["resources"] if r["name"] == "rebuilt")
    rebuilt["properties"]["timeCreated"] = "2026-11-26T18:00:00Z"
    doc["resources"].append(assignment(_id(rebuilt), DAILY))
    _, findings = run(RECREATED, doc)
    by_key = {(f.resource_id.split("/")[-1], f.key): f for f in findings}
    assert set(by_key) == {("rebuilt", "shutdown-or-unresponsive"), ("brand-new", "new-machine")}
    assert "ShutdownOrUnresponsive" in by_key[("rebuilt", "shutdown-or-unresponsive")].detail
    assert not any(f.fixable for f in findings)
