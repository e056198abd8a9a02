"""Maintenance playbooks end to end: real SDK clients -> HTTPS emulator; apply, then plan again."""

from __future__ import annotations

from typing import Any

from remediator.emulator.maintenance import dynamic_scope_members
from tests.data.maintenance.estates import (
    SUB_A,
    SUB_B,
    arc,
    assignment,
    configuration,
    estate,
    group,
    vm,
)
from tests.playbook_harness import run_through_emulator, statuses

CFG = configuration(SUB_A, "rg-maint", "nightly", time_zone="W. Europe Standard Time", recur="Month day-1")
WEEKLY = configuration(
    SUB_A,
    "rg-maint",
    "weekly",
    start="2026-01-03 23:00",
    time_zone="Pacific Standard Time",
    recur="Week Saturday,Sunday",
)
EXPIRED = configuration(SUB_A, "rg-maint", "old", expiration="2026-06-30 00:00")
LINUX_PROD = {
    "resourceTypes": ["Microsoft.Compute/virtualMachines", "Microsoft.HybridCompute/machines"],
    "osTypes": ["Linux"],
    "locations": ["West Europe"],
    "tagSettings": {"tags": {"env": ["prod"]}, "filterOperator": "All"},
}


def _id(resource: dict[str, Any]) -> str:
    return str(resource["id"])


def prerequisites_estate() -> dict[str, Any]:
    win_bad = vm(SUB_A, "rg-app", "win-bad", patch_mode="AutomaticByOS", bypass=None)
    win_manual = vm(SUB_A, "rg-app", "win-manual", patch_mode="Manual", bypass=None, enable_automatic_updates=False)
    win_two = vm(SUB_A, "rg-app", "win-two", patch_mode="AutomaticByPlatform", bypass=False)
    lin_bad = vm(SUB_A, "rg-web", "lin-bad", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"env": "prod"})
    lin_dev = vm(SUB_A, "rg-web", "lin-dev", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"env": "dev"})
    lin_b = vm(SUB_B, "rg-web", "lin-b", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"env": "prod"})
    good = vm(SUB_A, "rg-app", "win-good")
    hot = vm(SUB_A, "rg-app", "win-hot", patch_mode="AutomaticByPlatform", bypass=False, hotpatch=True)
    expired_only = vm(SUB_A, "rg-app", "win-expired", patch_mode="AutomaticByOS", bypass=None)
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        group(SUB_A, "rg-web"),
        group(SUB_B, "rg-web"),
        CFG,
        WEEKLY,
        EXPIRED,
        win_bad,
        win_manual,
        win_two,
        lin_bad,
        lin_dev,
        lin_b,
        good,
        hot,
        expired_only,
        arc(SUB_A, "rg-web", "arc1", os="linux", tags={"env": "prod"}),
        assignment(_id(win_bad), CFG),
        assignment(_id(win_manual), CFG),
        assignment(_id(good), CFG),
        assignment(_id(hot), CFG),
        assignment(_id(expired_only), EXPIRED),
        assignment(_id(win_two), CFG),
        assignment(_id(win_two), WEEKLY),
        assignment(f"/subscriptions/{SUB_A}", CFG, name="linux-prod", filter_=LINUX_PROD),
    )


def test_schedule_prerequisites_fixes_static_and_dynamic_scope_vms() -> None:
    doc = prerequisites_estate()
    result = run_through_emulator(doc, playbooks=["schedule-prerequisites"])
    assert result.errors == ()
    found = {f.resource_id.split("/")[-1]: f for f in result.first.findings}
    assert set(found) == {"win-bad", "win-manual", "win-two", "lin-bad", "win-hot"}
    assert not found["win-hot"].fixable
    assert {c.resource_id.split("/")[-1] for c in result.first.changes} == {
        "win-bad",
        "win-manual",
        "win-two",
        "lin-bad",
    }
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    assert {f.resource_id.split("/")[-1] for f in result.again.findings} == {"win-hot"}

    store = result.emulator.state.store
    win = store.get(_id(vm(SUB_A, "rg-app", "win-manual")))
    assert win is not None
    windows = win["properties"]["osProfile"]["windowsConfiguration"]
    assert windows["patchSettings"] == {
        "patchMode": "AutomaticByPlatform",
        "automaticByPlatformSettings": {"bypassPlatformSafetyChecksOnUserSchedule": True},
    }
    assert windows["enableAutomaticUpdates"] is True and windows["provisionVMAgent"] is True
    lin = store.get(_id(vm(SUB_A, "rg-web", "lin-bad")))
    assert lin is not None
    assert lin["properties"]["osProfile"]["linuxConfiguration"]["patchSettings"]["patchMode"] == "AutomaticByPlatform"
    assert lin["properties"]["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    untouched = store.get(_id(vm(SUB_A, "rg-web", "lin-dev")))
    assert untouched is not None
    assert untouched["properties"]["osProfile"]["linuxConfiguration"]["patchSettings"]["patchMode"] == "ImageDefault"


def test_emulator_and_bot_agree_on_what_a_dynamic_scope_selects() -> None:
    from playbooks._maintenance_model import MaintenanceView
    from tests.data.maintenance.estates import to_estate

    doc = prerequisites_estate()
    result = run_through_emulator(doc, playbooks=["schedule-prerequisites"])
    state = result.emulator.state
    scope = state.store.get(
        f"/subscriptions/{SUB_A}/providers/Microsoft.Maintenance/configurationAssignments/linux-prod"
    )
    assert scope is not None
    emulator_says = {str(m["name"]) for m in dynamic_scope_members(state, scope)}
    view = MaintenanceView(to_estate(doc))
    bot_says = {
        m.name
        for m in view.estate.resources
        if m.type_key in ("microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines")
        and any(a.assignment.name == "linux-prod" for a in view.attachments(m))
    }
    assert emulator_says == bot_says == {"lin-bad", "arc1"}
    assert result.again.changes == ()


def moved_estate() -> dict[str, Any]:
    old_id = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/app1"
    moved = vm(SUB_B, "rg-new", "app1")
    healthy = vm(SUB_A, "rg-old", "app2")
    ghost = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/ghost"
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-old"),
        group(SUB_B, "rg-new"),
        CFG,
        moved,
        healthy,
        assignment(old_id, CFG),
        assignment(_id(healthy), CFG),
        assignment(ghost, CFG),
    )


def test_moved_machine_is_reassigned_and_the_stale_assignment_removed() -> None:
    result = run_through_emulator(moved_estate(), playbooks=["maintenance-moved-resource"])
    assert result.errors == ()
    assert len(result.first.findings) == 2
    actions = [c.action for c in sorted(result.first.changes, key=lambda c: c.order)]
    assert actions == ["create-configuration-assignment", "delete-configuration-assignment"]
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    # Only the ghost (no machine of that name anywhere) is left, for a human.
    (left,) = result.again.findings
    assert "/virtualMachines/ghost/" in left.resource_id and not left.fixable
    store = result.emulator.state.store
    moved_id = _id(vm(SUB_B, "rg-new", "app1"))
    new = store.get(f"{moved_id}/providers/Microsoft.Maintenance/configurationAssignments/nightly")
    assert new is not None and new["properties"]["maintenanceConfigurationId"] == CFG["id"]
    assert new["properties"]["resourceId"].lower() == moved_id.lower()
    old = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/app1"
    assert store.get(f"{old}/providers/Microsoft.Maintenance/configurationAssignments/nightly") is None


def test_schedule_conflicts_reported_through_the_emulator_with_no_changes() -> None:
    from tests.unit.test_maintenance_schedules import conflict_estate

    result = run_through_emulator(
        conflict_estate(), playbooks=["schedule-conflicts"], options={"schedule-conflicts": {"horizon_hours": 120}}
    )
    assert result.errors == ()
    assert {f.resource_id.split("/")[-1] for f in result.first.findings} == {"both", "weekend-too", "month-too"}
    assert result.first.changes == () and result.again.changes == ()


def test_powered_off_vm_is_started_only_when_the_fix_is_enabled() -> None:
    from tests.unit.test_maintenance_schedules import powered_estate

    off_id = _id(vm(SUB_A, "rg-app", "off"))
    report_only = run_through_emulator(powered_estate(), playbooks=["powered-off-machines"])
    assert report_only.first.changes == () and report_only.again.changes == ()
    off = next(f for f in report_only.first.findings if f.resource_id == off_id)
    assert "playbooks.powered-off-machines.fix: true" in off.detail and "the bot starts the VM" in off.detail
    assert {f.resource_id.split("/")[-1] for f in report_only.first.findings} == {"off", "arc-off"}
    # Enabled, the default start_within_hours (1.5, for hourly runs) waits: the window is 13 hours ahead.
    waiting = run_through_emulator(
        powered_estate(), playbooks=["powered-off-machines"], fix={"powered-off-machines": True}
    )
    assert waiting.first.changes == ()
    result = run_through_emulator(
        powered_estate(),
        playbooks=["powered-off-machines"],
        fix={"powered-off-machines": True},
        options={"powered-off-machines": {"start_within_hours": 24}},
    )
    assert result.errors == ()
    assert [c.resource_id for c in result.first.changes] == [off_id]
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    assert {f.resource_id.split("/")[-1] for f in result.again.findings} == {"arc-off"}
    stored = result.emulator.state.store.get(off_id)
    assert stored is not None
    codes = [s["code"] for s in stored["properties"]["instanceView"]["statuses"]]
    assert "PowerState/running" in codes and "PowerState/deallocated" not in codes


def test_maintenance_window_lengthened_within_the_maximum() -> None:
    from tests.unit.test_maintenance_schedules import window_estate

    result = run_through_emulator(window_estate(), playbooks=["maintenance-window"], fix={"maintenance-window": True})
    assert result.errors == ()
    assert sorted(c.after["duration"] for c in result.first.changes) == ["01:30", "03:55"]
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    store = result.emulator.state.store
    for name, duration in (("short", "01:30"), ("roomy", "03:55"), ("healthy", "02:00")):
        config = store.get(
            f"/subscriptions/{SUB_A}/resourceGroups/rg-maint/providers/Microsoft.Maintenance/"
            f"maintenanceConfigurations/{name}"
        )
        assert config is not None
        assert config["properties"]["maintenanceWindow"]["duration"] == duration
        assert config["properties"]["maintenanceWindow"]["recurEvery"] == "Day"


def test_patch_orchestration_manual_sets_customer_managed_schedules_on_tagged_vms() -> None:
    from tests.unit.test_maintenance_machines import manual_estate

    not_enabled = run_through_emulator(manual_estate(), playbooks=["patch-orchestration-manual"])
    assert not_enabled.first.changes == () and not_enabled.again.changes == ()
    assert all("fix is opt-in" in f.detail for f in not_enabled.first.findings if f.fixable)
    result = run_through_emulator(
        manual_estate(), playbooks=["patch-orchestration-manual"], fix={"patch-orchestration-manual": True}
    )
    assert result.errors == ()
    assert {c.resource_id.split("/")[-1] for c in result.first.changes} == {"by-os", "by-platform"}
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    assert {f.resource_id.split("/")[-1] for f in result.again.findings} == {"scheduled"}
    stored = result.emulator.state.store.get(_id(vm(SUB_A, "rg-app", "by-os")))
    assert stored is not None
    settings = stored["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]
    assert settings["patchMode"] == "AutomaticByPlatform"
    assert settings["automaticByPlatformSettings"]["bypassPlatformSafetyChecksOnUserSchedule"] is True
    untagged = result.emulator.state.store.get(_id(vm(SUB_A, "rg-app", "untagged")))
    assert untagged is not None
    assert untagged["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["patchMode"] == "AutomaticByOS"


def test_recreated_machine_gets_its_dropped_assignment_back_after_the_buffer() -> None:
    from tests.unit.test_maintenance_machines import recreated_estate

    early = run_through_emulator(recreated_estate("2026-11-26T09:00:00Z"), playbooks=["recreated-machine"])
    assert early.errors == () and early.first.changes == () and early.again.changes == ()
    assert [f.key.split(":")[0] for f in early.first.findings] == ["dropped"]
    result = run_through_emulator(recreated_estate("2026-11-26T15:00:00Z"), playbooks=["recreated-machine"])
    assert result.errors == ()
    assert [c.action for c in result.first.changes] == ["create-configuration-assignment"]
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == () and result.again.findings == ()
    rebuilt = _id(vm(SUB_A, "rg-app", "rebuilt"))
    stored = result.emulator.state.store.get(
        f"{rebuilt}/providers/Microsoft.Maintenance/configurationAssignments/daily-22z"
    )
    assert stored is not None and stored["properties"]["resourceId"].lower() == rebuilt.lower()


MAINTENANCE_PLAYBOOKS = [
    "maintenance-moved-resource",
    "schedule-prerequisites",
    "schedule-conflicts",
    "powered-off-machines",
    "maintenance-window",
    "patch-orchestration-manual",
    "recreated-machine",
]


def _flagged(finding: Any) -> str:
    """The machine or configuration a finding is about (an assignment id names its machine)."""
    parts = finding.resource_id.split("/")
    lowered = [p.lower() for p in parts]
    if "configurationassignments" in lowered:
        return parts[lowered.index("configurationassignments") - 3]
    return parts[-1]


# The fleet's windows are hours ahead of its clock: start powered-off VMs for any window today.
START_A_DAY_AHEAD = {"powered-off-machines": {"start_within_hours": 24}}


def test_a_fleet_never_seen_is_fixed_in_one_apply_with_no_false_positives() -> None:
    from tests.data.maintenance.fleet import EXPECTED, fleet

    opt_in = {"powered-off-machines": True, "maintenance-window": True, "patch-orchestration-manual": True}
    result = run_through_emulator(fleet(), playbooks=MAINTENANCE_PLAYBOOKS, fix=opt_in, options=START_A_DAY_AHEAD)
    assert result.errors == ()
    found: dict[str, dict[str, bool]] = {}
    for finding in result.first.findings:
        found.setdefault(finding.playbook, {})[_flagged(finding)] = any(
            c.finding_id == finding.id for c in result.first.changes
        )
    expected_changes = {pb: {n: o != "report" for n, o in names.items()} for pb, names in EXPECTED.items()}
    assert found == expected_changes
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    left = {(f.playbook, _flagged(f)) for f in result.again.findings}
    assert left == {(pb, n) for pb, names in EXPECTED.items() for n, o in names.items() if o in ("report", "changed")}


def test_cli_plans_the_fleet_then_fixes_it_with_opt_ins_from_the_settings_file(tmp_path: Any) -> None:
    import json

    from tests.cli_runner import run_cli
    from tests.data.maintenance.fleet import fleet

    estate_file = tmp_path / "fleet.json"
    estate_file.write_text(json.dumps(fleet()))
    settings = tmp_path / "remediator.yaml"
    settings.write_text(
        "playbooks:\n"
        "  enabled: [" + ", ".join(MAINTENANCE_PLAYBOOKS) + "]\n"
        "  powered-off-machines: {fix: true, options: {start_within_hours: 24}}\n"
        "  maintenance-window: {fix: true, options: {minimum_duration: '01:30'}}\n"
        "  schedule-conflicts: {options: {horizon_hours: 24}}\n"
    )
    base = ["run", "--estate", str(estate_file), "--config", str(settings), "--format", "json"]
    dry = run_cli([base[0], "--dry-run", *base[1:]])
    assert dry.code == 2, dry.stderr
    planned = json.loads(dry.stdout)
    by_playbook = planned["summary"]["by_playbook"]
    assert by_playbook["powered-off-machines"] == 1 and by_playbook["maintenance-window"] == 2
    assert "patch-orchestration-manual" not in by_playbook  # opt-in, not enabled in the file
    manual = [f for f in planned["findings"] if f["playbook"] == "patch-orchestration-manual"]
    assert [f["resource_id"].split("/")[-1] for f in manual] == ["dev1"]
    fixed = run_cli(base)
    assert fixed.code == 0, fixed.stderr
    doc = json.loads(fixed.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    assert doc["plan_after_apply"]["changes"] == []


def test_after_the_apply_every_schedule_of_the_fleet_actually_patches_its_machines() -> None:
    """The emulator's own scheduler model: the fixes reach their goal, not only their fields."""
    from remediator.emulator import Emulator
    from remediator.emulator.maintenance_scheduled_run import run_schedule
    from tests.data.maintenance.fleet import fleet

    def outcomes(emulator: Emulator, config: str) -> dict[str, str]:
        config_id = f"/subscriptions/{SUB_A}/resourceGroups/rg-maint/providers/Microsoft.Maintenance/" + (
            f"maintenanceConfigurations/{config}"
        )
        runs = run_schedule(emulator.state, config_id)
        return {
            r["properties"]["resourceId"].split("/")[-1]: (r["properties"].get("error") or {}).get("code", "ok")
            for r in runs
        }

    before = Emulator.load(fleet())
    assert outcomes(before, "db-weekly") == {"db1": "ShutdownOrUnresponsive", "db2": "ok"}  # db3 moved away
    assert outcomes(before, "web-nightly") == {
        "web1": "ok",
        "web2": "PrerequisitesNotMet",
        "hot1": "PrerequisitesNotMet",
        "arc1": "ShutdownOrUnresponsive",
    }
    opt_in = {"powered-off-machines": True, "maintenance-window": True, "patch-orchestration-manual": True}
    after = run_through_emulator(
        fleet(), playbooks=MAINTENANCE_PLAYBOOKS, fix=opt_in, options=START_A_DAY_AHEAD
    ).emulator
    assert outcomes(after, "db-weekly") == {"db1": "ok", "db2": "ok", "db3": "ok", "rebuilt": "ok"}
    # What is left is what the article says a human must do: hotpatch and an offline Arc server.
    assert outcomes(after, "web-nightly") == {
        "web1": "ok",
        "web2": "ok",
        "hot1": "PrerequisitesNotMet",
        "arc1": "ShutdownOrUnresponsive",
    }
