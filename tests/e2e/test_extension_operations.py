"""extension-operations end to end (and together with update-extension): apply, then plan again."""

from __future__ import annotations

from typing import Any

from tests.data.extension.estates import arc, estate, patch_extension, vm
from tests.playbook_harness import harness, run_through_emulator, statuses

LOCKED = vm("win-locked", allow_extensions=False)
LOCKED_UNPATCHED = vm("lin-locked", os="Linux", allow_extensions=False, patch_mode=None, assessment_mode=None)
OPEN = vm("win-open")
UNSET = vm("win-unset", allow_extensions=None)
ARC_DISABLED = arc("arc-disabled", extensions_enabled="false")
ARC_OK = arc("arc-ok")


def scenario() -> dict[str, Any]:
    return estate(LOCKED, LOCKED_UNPATCHED, OPEN, UNSET, ARC_DISABLED, ARC_OK)


def _name(resource_id: str) -> str:
    return resource_id.split("/")[8]


def _allow(emulator: Any, machine: dict[str, Any]) -> Any:
    return emulator.get(machine["id"])["properties"]["osProfile"].get("allowExtensionOperations")


def test_the_fix_is_opt_in_and_the_dry_run_reports_without_changes() -> None:
    result = run_through_emulator(scenario(), ["extension-operations"])
    assert {_name(f.resource_id): f.fixable for f in result.first.findings} == {
        "win-locked": True,
        "lin-locked": True,
        "arc-disabled": False,
    }
    severities = {_name(f.resource_id): f.severity for f in result.first.findings}
    assert severities["win-locked"] == "high" and severities["lin-locked"] == "medium"
    locked = next(f for f in result.first.findings if _name(f.resource_id) == "win-locked")
    assert "opt-in" in locked.detail
    assert "azcmagent config set extensions.enabled true" in next(
        f.detail for f in result.first.findings if _name(f.resource_id) == "arc-disabled"
    )
    assert result.first.changes == ()
    assert _allow(result.emulator, LOCKED) is False
    assert result.again.changes == ()


def test_opted_in_it_sets_only_allow_extension_operations() -> None:
    before = {m["id"]: m for m in (LOCKED, LOCKED_UNPATCHED)}
    result = run_through_emulator(scenario(), ["extension-operations"], fix={"extension-operations": True})
    assert sorted(_name(c.resource_id) for c in result.first.changes) == ["lin-locked", "win-locked"]
    assert statuses(result.applied) == {"applied"}
    for machine_id, machine in before.items():
        stored = result.emulator.get(machine_id)
        assert stored is not None
        assert stored["properties"]["osProfile"]["allowExtensionOperations"] is True
        # Nothing else in the VM moved.
        wanted = dict(machine["properties"]["osProfile"], allowExtensionOperations=True)
        assert stored["properties"]["osProfile"] == wanted
        assert stored["properties"]["storageProfile"] == machine["properties"]["storageProfile"]
    patches = [e for e in result.emulator.request_log if e.method == "PATCH"]
    assert [e.body for e in patches] == [{"properties": {"osProfile": {"allowExtensionOperations": True}}}] * 2
    # apply, then plan again: no changes (the Arc report stays: it needs hands on the machine)
    assert result.again.changes == ()
    assert [_name(f.resource_id) for f in result.again.findings] == ["arc-disabled"]


def test_with_update_extension_the_second_run_repairs_the_extension() -> None:
    machine = vm("win-both", allow_extensions=False)
    both = estate(machine, patch_extension(machine, "Failed"))
    with harness(both, ["extension-operations", "update-extension"], fix={"extension-operations": True}) as h:
        first = h.plan().plan
        assert [c.action for c in first.changes] == ["set-allow-extension-operations"]
        assert statuses(h.apply(first)) == {"applied"}
        second = h.plan().plan
        assert [c.action for c in second.changes] == ["delete-extension", "assess-patches"]
        assert statuses(h.apply(second)) == {"applied"}
        stored = h.emulator.get(f"{machine['id']}/extensions/WindowsPatchExtension")
        assert stored is not None and stored["properties"]["provisioningState"] == "Succeeded"
        # apply, then plan again: no changes
        assert h.plan().plan.changes == ()
