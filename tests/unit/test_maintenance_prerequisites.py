"""schedule-prerequisites: pure detect/plan on in-memory estates."""

from __future__ import annotations

from playbooks.maintenance._maintenance_model import MaintenanceView, exclusion
from playbooks.maintenance.schedule_prerequisites import PLAYBOOK
from remediator import Context, Resource
from tests.data.maintenance.estates import (
    SUB_A,
    SUB_B,
    arc,
    assignment,
    configuration,
    estate,
    group,
    to_estate,
    vm,
)

CFG = configuration(SUB_A, "rg-maint", "nightly")
EXPIRED = configuration(SUB_A, "rg-maint", "old", expiration="2026-06-30 00:00")
DYN_FILTER = {
    "resourceTypes": ["Microsoft.Compute/virtualMachines", "Microsoft.HybridCompute/machines"],
    "osTypes": ["Linux"],
    "tagSettings": {"tags": {"env": ["prod", "staging"], "patch": []}, "filterOperator": "Any"},
}


def scenario() -> dict[str, object]:
    win_bad = vm(SUB_A, "rg-app", "win-bad", patch_mode="AutomaticByOS", bypass=None)
    win_manual = vm(SUB_A, "rg-app", "win-manual", patch_mode="Manual", bypass=None, enable_automatic_updates=False)
    linux_bad = vm(SUB_A, "rg-web", "lin-bad", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"env": "prod"})
    linux_tagged_any = vm(
        SUB_A,
        "rg-web",
        "lin-patch",
        os="Linux",
        patch_mode="AutomaticByPlatform",
        bypass=False,
        tags={"patch": "whatever"},
    )
    linux_out = vm(SUB_A, "rg-web", "lin-dev", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"env": "dev"})
    linux_other_sub = vm(
        SUB_B, "rg-web", "lin-b", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"env": "prod"}
    )
    good = vm(SUB_A, "rg-app", "win-good")
    hot = vm(SUB_A, "rg-app", "win-hot", patch_mode="AutomaticByPlatform", bypass=False, hotpatch=True)
    restored = vm(SUB_A, "rg-app", "restored", specialized=True)
    expired_only = vm(SUB_A, "rg-app", "win-expired", patch_mode="AutomaticByOS", bypass=None)
    machine_arc = arc(SUB_A, "rg-web", "arc1", os="linux", tags={"env": "prod"})
    in_westeu = vm(SUB_B, "rg-eu", "eu-bad", patch_mode="AutomaticByOS", bypass=None, location="westeurope")
    in_eastus = vm(SUB_B, "rg-eu", "us-bad", patch_mode="AutomaticByOS", bypass=None, location="eastus")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        group(SUB_A, "rg-web"),
        group(SUB_B, "rg-web"),
        group(SUB_B, "rg-eu"),
        CFG,
        EXPIRED,
        win_bad,
        win_manual,
        linux_bad,
        linux_tagged_any,
        linux_out,
        linux_other_sub,
        good,
        hot,
        restored,
        expired_only,
        machine_arc,
        in_westeu,
        in_eastus,
        assignment(str(win_bad["id"]), CFG),
        assignment(str(win_manual["id"]), CFG),
        assignment(str(good["id"]), CFG),
        assignment(str(hot["id"]), CFG),
        assignment(str(restored["id"]), CFG),
        assignment(str(expired_only["id"]), EXPIRED),
        assignment(f"/subscriptions/{SUB_A}", CFG, name="linux-prod", filter_=DYN_FILTER),
        assignment(
            f"/subscriptions/{SUB_B}/resourceGroups/rg-eu", CFG, name="eu-only", filter_={"locations": ["West Europe"]}
        ),
    )


def findings() -> dict[str, object]:
    ctx = Context(estate=to_estate(scenario()))
    return {f.resource_id.split("/")[-1]: f for f in PLAYBOOK.detect(ctx)}


def test_finds_exactly_the_scheduled_vms_without_customer_managed_schedules() -> None:
    found = findings()
    assert set(found) == {"win-bad", "win-manual", "lin-bad", "lin-patch", "win-hot", "restored", "eu-bad"}


def test_windows_fix_patches_only_patch_settings() -> None:
    ctx = Context(estate=to_estate(scenario()))
    finding = next(f for f in PLAYBOOK.detect(ctx) if f.resource_id.endswith("/win-bad"))
    assert finding.fixable
    (change,) = PLAYBOOK.plan(ctx, finding)
    assert change.action == "patch-patch-settings"
    assert change.before == {"patchMode": "AutomaticByOS", "bypassPlatformSafetyChecksOnUserSchedule": None}
    assert change.after == {"patchMode": "AutomaticByPlatform", "bypassPlatformSafetyChecksOnUserSchedule": True}
    assert set(change.params["paths"].values()) == {
        "properties.osProfile.windowsConfiguration.patchSettings.patchMode",
        "properties.osProfile.windowsConfiguration.patchSettings.automaticByPlatformSettings."
        "bypassPlatformSafetyChecksOnUserSchedule",
    }


def test_windows_manual_mode_also_turns_on_automatic_updates() -> None:
    ctx = Context(estate=to_estate(scenario()))
    finding = next(f for f in PLAYBOOK.detect(ctx) if f.resource_id.endswith("/win-manual"))
    (change,) = PLAYBOOK.plan(ctx, finding)
    assert change.before["enableAutomaticUpdates"] is False
    assert change.after["enableAutomaticUpdates"] is True
    assert change.params["paths"]["enableAutomaticUpdates"] == (
        "properties.osProfile.windowsConfiguration.enableAutomaticUpdates"
    )


def test_linux_fix_uses_the_linux_configuration_path() -> None:
    ctx = Context(estate=to_estate(scenario()))
    finding = next(f for f in PLAYBOOK.detect(ctx) if f.resource_id.endswith("/lin-bad"))
    (change,) = PLAYBOOK.plan(ctx, finding)
    assert all(
        p.startswith("properties.osProfile.linuxConfiguration.patchSettings.") for p in change.params["paths"].values()
    )
    assert "enableAutomaticUpdates" not in change.before
    assert "nightly (dynamic scope linux-prod)" in finding.detail


def test_hotpatch_and_specialized_vms_are_reported_not_fixed() -> None:
    ctx = Context(estate=to_estate(scenario()))
    by_name = {f.resource_id.split("/")[-1]: f for f in PLAYBOOK.detect(ctx)}
    for name in ("win-hot", "restored"):
        assert not by_name[name].fixable
        assert list(PLAYBOOK.plan(ctx, by_name[name])) == []
    assert "hotpatch" in by_name["win-hot"].detail
    assert "osProfile" in by_name["restored"].detail


def test_dynamic_scope_filter_semantics() -> None:
    est = to_estate(scenario())
    view = MaintenanceView(est)
    linux_scope = next(a for a in view.dynamic if a.name == "linux-prod")

    def machine(name: str) -> Resource:
        return next(r for r in est.resources if r.name == name)

    assert exclusion(linux_scope, machine("lin-bad")) == ""
    assert exclusion(linux_scope, machine("lin-patch")) == ""  # a tag listed without values: any value
    assert "tagSettings" in exclusion(linux_scope, machine("lin-dev"))
    assert "osTypes" in exclusion(linux_scope, machine("win-bad"))
    assert "scope" in exclusion(linux_scope, machine("lin-b"))
    assert exclusion(linux_scope, machine("arc1")) == ""  # Arc is selected, but has no prerequisite
    eu_scope = next(a for a in view.dynamic if a.name == "eu-only")
    assert exclusion(eu_scope, machine("eu-bad")) == ""
    assert "locations" in exclusion(eu_scope, machine("us-bad"))
    all_scope = linux_scope.__class__(
        linux_scope.resource,
        linux_scope.configuration_id,
        linux_scope.target,
        {"tagSettings": {"tags": {"env": ["prod"], "patch": []}, "filterOperator": "All"}},
    )
    assert "All" in exclusion(all_scope, machine("lin-bad"))


def test_nothing_left_once_the_settings_are_right() -> None:
    doc = scenario()
    for res in doc["resources"]:  # type: ignore[union-attr]
        settings = res.get("properties", {}).get("osProfile") or {}
        for key in ("windowsConfiguration", "linuxConfiguration"):
            if key in settings and not settings[key]["patchSettings"].get("enableHotpatching"):
                settings[key]["patchSettings"] = {
                    "patchMode": "AutomaticByPlatform",
                    "automaticByPlatformSettings": {"bypassPlatformSafetyChecksOnUserSchedule": True},
                }
    names = {f.resource_id.split("/")[-1] for f in PLAYBOOK.detect(Context(estate=to_estate(doc)))}
    assert names == {"win-hot", "restored"}
