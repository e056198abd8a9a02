"""stale-assessment end to end: overdue periodic assessments read through the emulator, with the
cause Azure shows or the on-machine check where it shows none; look-alikes are not flagged."""

from __future__ import annotations

from typing import Any

from tests.data.extension.estates import SUB, arc, assessment, estate, patch_extension, vm
from tests.playbook_harness import run_through_emulator

# now: 2026-11-26T09:00:00Z
OLD = "2026-11-24T07:00:00Z"  # 50 hours ago: past 24 h + 12 h grace
RECENT = "2026-11-25T03:00:00Z"  # 30 hours ago: inside the grace


def _assessed(machine: dict[str, Any], when: str) -> dict[str, Any]:
    result = assessment(machine)
    result["properties"]["startDateTime"] = result["properties"]["lastModifiedDateTime"] = when
    return result


def _created(machine: dict[str, Any], when: str) -> dict[str, Any]:
    machine["properties"]["timeCreated"] = when
    return machine


def scenario() -> dict[str, Any]:
    lin_stale = vm("lin-stale", os="Linux")
    win_stale = vm("win-stale")
    win_recent = vm("win-recent")
    by_policy = vm("lin-by-policy", os="Linux", assessment_mode="ImageDefault")
    not_on = vm("win-not-on", assessment_mode="ImageDefault")
    never = _created(vm("lin-never", os="Linux"), "2026-11-20T00:00:00Z")
    new = _created(vm("lin-new", os="Linux"), "2026-11-26T07:00:00Z")
    stopped = vm("win-stopped", power="deallocated")
    broken = vm("win-broken")
    arc_stale = arc("arc-stale", assessment_mode="AutomaticByPlatform")
    policy = {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/periodic-linux",
        "name": "periodic-linux",
        "type": "Microsoft.Authorization/policyAssignments",
        "location": "westeurope",
        "identity": {"type": "SystemAssigned", "principalId": "11111111-1111-1111-1111-111111111111"},
        "properties": {
            "displayName": "periodic-linux",
            "scope": f"/subscriptions/{SUB}",
            "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/"
            "59efceea-0c96-497e-a4a1-4eb2290dac15",
            "parameters": {"osType": {"value": "Linux"}},
            "enforcementMode": "Default",
        },
    }
    doc = estate(
        policy,
        lin_stale,
        patch_extension(lin_stale),
        _assessed(lin_stale, OLD),
        win_stale,
        patch_extension(win_stale),
        _assessed(win_stale, OLD),
        win_recent,
        patch_extension(win_recent),
        _assessed(win_recent, RECENT),
        by_policy,
        patch_extension(by_policy),
        _assessed(by_policy, OLD),
        not_on,
        patch_extension(not_on),
        _assessed(not_on, OLD),
        never,
        new,
        stopped,
        patch_extension(stopped),
        _assessed(stopped, OLD),
        broken,
        patch_extension(broken, "Failed"),
        _assessed(broken, OLD),
        arc_stale,
        patch_extension(arc_stale),
        _assessed(arc_stale, OLD),
    )
    doc["subscriptions"][0]["providers"] = {"Microsoft.Compute": "NotRegistered"}
    return doc


def test_overdue_periodic_assessments_are_found_with_what_azure_shows() -> None:
    result = run_through_emulator(scenario(), ["stale-assessment"])
    by_name = {f.resource_id.rsplit("/", 1)[-1]: f for f in result.first.findings}
    assert set(by_name) == {"lin-stale", "win-stale", "lin-by-policy", "lin-never", "win-broken", "arc-stale"}
    lin = by_name["lin-stale"]
    assert lin.doc == "troubleshoot.md#msftlinuxpatchautoassess-service-isnt-running-or-times-out"
    assert "Azure does not show the service's state" in lin.detail
    assert "systemctl status MsftLinuxPatchAutoAssess" in lin.detail
    assert "50 hours ago" in lin.detail
    assert by_name["win-stale"].doc == "troubleshoot.md#general-troubleshooting"
    assert "WindowsUpdateExtension.log" in by_name["win-stale"].detail
    assert by_name["lin-never"].doc == "troubleshoot.md#windowslinux-patch-update-extension-isnt-installed"
    assert "no assessment on record" in by_name["lin-never"].detail
    assert "update-extension" in by_name["win-broken"].detail
    assert by_name["arc-stale"].doc == (
        "troubleshoot.md#you-cant-generate-periodic-assessment-for-azure-arc-enabled-servers"
    )
    # Report only; plan again: the same, no changes.
    assert result.first.changes == () and result.again.changes == ()
    assert {f.id for f in result.again.findings} == {f.id for f in result.first.findings}


def test_the_grace_is_configurable() -> None:
    result = run_through_emulator(scenario(), ["stale-assessment"], options={"stale-assessment": {"grace_hours": 48}})
    assert {f.resource_id.rsplit("/", 1)[-1] for f in result.first.findings} == {"lin-never"}
