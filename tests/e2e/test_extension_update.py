"""update-extension end to end: real SDK clients -> HTTPS emulator; apply, then plan again."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from tests.cli_runner import run_cli
from tests.data.extension.estates import (
    arc,
    assessment,
    error,
    estate,
    extension,
    os_update_extension,
    patch_extension,
    vm,
)
from tests.playbook_harness import harness, run_through_emulator, statuses

WIN_FAILED = vm("win-failed")
LIN_MISSING = vm("lin-missing", os="Linux")
WIN_OK = vm("win-ok")
NEVER_ASSESSED = vm("never-assessed", os="Linux")
UNMANAGED = vm("unmanaged", patch_mode=None, assessment_mode=None)
ARC_LIN_FAILED = arc("arc-lin-failed")
ARC_WIN_MISSING = arc("arc-win-missing", os="windows")
LIN_AUTO_BROKEN = vm("lin-auto-broken", os="Linux")
LIN_AUTO_OK = vm("lin-auto-ok", os="Linux")
STOPPED = vm("win-stopped", power="deallocated")
NO_EXTENSIONS = vm("win-no-extensions", allow_extensions=False)
LIN_SUDO = vm("lin-sudo", os="Linux")
AUTO_ASSESS = error("AssessmentFailed", "MsftLinuxPatchAutoAssess service is not running or timed out")
SUDO = error(
    "PatchOperationFailed",
    "EXCEPTION: Exception('Unable to invoke sudo successfully. Output: root is not in the sudoers file. "
    "This incident will be reported. False ',)",
)


def scenario() -> dict[str, Any]:
    return estate(
        WIN_FAILED,
        patch_extension(WIN_FAILED, "Failed", name="Microsoft.CPlat.Core.WindowsPatchExtension"),
        LIN_MISSING,
        # It was assessed (so Azure installed the extension), and the extension is gone since.
        assessment(LIN_MISSING),
        # Platform patching and periodic assessment on, never assessed nor patched: nothing owed yet.
        NEVER_ASSESSED,
        WIN_OK,
        patch_extension(WIN_OK),
        assessment(WIN_OK),
        UNMANAGED,
        ARC_LIN_FAILED,
        os_update_extension(ARC_LIN_FAILED, "Failed"),
        ARC_WIN_MISSING,
        # A user ran on-demand operations here, so the OS update extension should be installed.
        assessment(ARC_WIN_MISSING, started_by="User"),
        LIN_AUTO_BROKEN,
        patch_extension(LIN_AUTO_BROKEN, "Failed"),
        assessment(LIN_AUTO_BROKEN, "Failed", AUTO_ASSESS),
        LIN_AUTO_OK,
        patch_extension(LIN_AUTO_OK),
        assessment(LIN_AUTO_OK, "Failed", AUTO_ASSESS),
        STOPPED,
        patch_extension(STOPPED, "Failed"),
        NO_EXTENSIONS,
        patch_extension(NO_EXTENSIONS, "Failed"),
        LIN_SUDO,
        patch_extension(LIN_SUDO, "Failed"),
        assessment(LIN_SUDO, "Failed", SUDO),
    )


def _name(resource_id: str) -> str:
    return resource_id.split("/")[8]


def _extensions(emulator: Any, machine: dict[str, Any]) -> dict[str, str]:
    """type -> provisioningState of the machine's extensions, as the emulator holds them."""
    found: dict[str, str] = {}
    for name in (
        "WindowsPatchExtension",
        "LinuxPatchExtension",
        "WindowsOsUpdateExtension",
        "LinuxOsUpdateExtension",
        "Microsoft.CPlat.Core.WindowsPatchExtension",
    ):
        stored = emulator.get(f"{machine['id']}/extensions/{name}")
        if stored is not None:
            found[stored["properties"]["type"]] = stored["properties"]["provisioningState"]
    return found


def _latest(emulator: Any, machine: dict[str, Any]) -> dict[str, Any]:
    stored = emulator.get(f"{machine['id']}/patchAssessmentResults/latest")
    assert stored is not None
    return dict(stored["properties"])


def test_failed_extensions_are_removed_and_reinstalled_by_an_assessment() -> None:
    result = run_through_emulator(scenario(), ["update-extension"])
    planned = {(c.action, _name(c.resource_id)) for c in result.first.changes}
    assert planned == {
        ("delete-extension", "win-failed"),
        ("assess-patches", "win-failed"),
        ("assess-patches", "lin-missing"),
        ("delete-extension", "arc-lin-failed"),
        ("assess-patches", "arc-lin-failed"),
        ("assess-patches", "arc-win-missing"),
        ("delete-extension", "lin-auto-broken"),
        ("assess-patches", "lin-auto-broken"),
        ("delete-extension", "lin-sudo"),
        ("assess-patches", "lin-sudo"),
    }
    flagged = {_name(f.resource_id): f.fixable for f in result.first.findings}
    assert flagged == {
        "win-failed": True,
        "lin-missing": True,
        "arc-lin-failed": True,
        "arc-win-missing": True,
        "lin-auto-broken": True,
        "lin-auto-ok": False,
        "win-stopped": False,
        "win-no-extensions": False,
        "lin-sudo": True,
    }
    assert statuses(result.applied) == {"applied"}, [o for o in result.applied.outcomes if o.status != "applied"]

    emulator = result.emulator
    # The failed extension (named differently from the one the assessment installs) is gone.
    assert emulator.get(f"{WIN_FAILED['id']}/extensions/Microsoft.CPlat.Core.WindowsPatchExtension") is None
    assert _extensions(emulator, WIN_FAILED) == {"WindowsPatchExtension": "Succeeded"}
    assert _extensions(emulator, LIN_MISSING) == {"LinuxPatchExtension": "Succeeded"}
    assert _extensions(emulator, ARC_LIN_FAILED) == {"LinuxOsUpdateExtension": "Succeeded"}
    assert _extensions(emulator, ARC_WIN_MISSING) == {"WindowsOsUpdateExtension": "Succeeded"}
    assert _latest(emulator, WIN_FAILED)["status"] == "Succeeded"
    assert _latest(emulator, LIN_AUTO_BROKEN)["status"] == "Succeeded"
    # The sudo problem is the machine's: the new assessment reports it again (assessment-errors' job).
    assert _latest(emulator, LIN_SUDO)["status"] == "Failed"
    sudo_outcome = next(
        o
        for c, o in zip(result.applied.changes, result.applied.outcomes, strict=True)
        if c.action == "assess-patches" and _name(c.resource_id) == "lin-sudo"
    )
    assert "sudo" in sudo_outcome.detail
    # Machines that cannot run extension operations were left alone.
    assert _extensions(emulator, STOPPED) == {"WindowsPatchExtension": "Failed"}
    assert _extensions(emulator, NO_EXTENSIONS) == {"WindowsPatchExtension": "Failed"}

    # apply, then plan again: no changes
    assert result.again.changes == ()
    assert {_name(f.resource_id) for f in result.again.findings} == {"lin-auto-ok", "win-stopped", "win-no-extensions"}
    assert result.errors == ()


def test_deletes_run_before_the_assessment_and_only_failed_extensions_are_deleted() -> None:
    with harness(scenario(), ["update-extension"]) as h:
        plan = h.plan().plan
        h.apply(plan)
        writes = [
            e
            for e in h.emulator.request_log
            if (e.method in ("DELETE", "POST") and "/extensions/" in e.path)
            or e.path.lower().endswith("/assesspatches")
        ]
        deleted = [e.path for e in writes if e.method == "DELETE"]
        assert sorted(p.split("/")[8] for p in deleted) == [
            "arc-lin-failed",
            "lin-auto-broken",
            "lin-sudo",
            "win-failed",
        ]
        for machine in ("win-failed", "arc-lin-failed"):
            order = [e.method for e in writes if e.path.split("/")[8] == machine]
            assert order.index("DELETE") < order.index("POST")
        assert h.plan().plan.changes == ()


def test_a_failed_extension_that_was_not_removed_makes_the_assessment_fail() -> None:
    """The emulator follows the doc: an assessment does not repair a failed extension."""
    machine = vm("win-only-assess")
    only_assess = estate(machine, patch_extension(machine, "Failed"))
    with harness(only_assess, ["update-extension"]) as h:
        plan = h.plan().plan
        assess = tuple(replace(c, depends_on=()) for c in plan.changes if c.action == "assess-patches")
        applied = h.apply(replace(plan, changes=assess))
        assert [o.status for o in applied.outcomes] == ["failed"]
        assert applied.outcomes[0].error is not None
        assert applied.outcomes[0].error.code == "VMExtensionProvisioningError"
        assert _latest(h.emulator, machine)["status"] == "Failed"
        # The full plan (delete first) then succeeds, and the next plan is empty.
        assert statuses(h.apply(h.plan().plan)) == {"applied"}
        assert h.plan().plan.changes == ()


def test_arc_periodic_assessment_extension_is_reinstalled_when_assessment_mode_is_platform() -> None:
    machine = arc("arc-periodic", assessment_mode="AutomaticByPlatform")
    result = run_through_emulator(
        estate(machine, os_update_extension(machine), patch_extension(machine, "Failed")), ["update-extension"]
    )
    assert {c.action for c in result.first.changes} == {"delete-extension", "assess-patches"}
    assert statuses(result.applied) == {"applied"}
    assert _extensions(result.emulator, machine) == {
        "LinuxOsUpdateExtension": "Succeeded",
        "LinuxPatchExtension": "Succeeded",
    }
    assert result.again.changes == () and result.again.findings == ()


def test_unmanaged_machines_are_flagged_only_with_the_all_machines_option() -> None:
    machine = vm("plain", patch_mode=None, assessment_mode=None)
    with_option = run_through_emulator(
        estate(machine), ["update-extension"], options={"update-extension": {"all_machines": True}}
    )
    assert [c.action for c in with_option.first.changes] == ["assess-patches"]
    assert statuses(with_option.applied) == {"applied"}
    assert _extensions(with_option.emulator, machine) == {"WindowsPatchExtension": "Succeeded"}
    assert with_option.again.changes == ()
    without = run_through_emulator(estate(machine), ["update-extension"])
    assert without.first.findings == ()


def test_a_stale_plan_is_not_applied() -> None:
    machine = vm("win-raced")
    other = extension(machine, "Microsoft.CPlat.Core", "WindowsPatchExtension", "Failed")
    with harness(estate(machine, other), ["update-extension"]) as h:
        plan = h.plan().plan
        # Someone repairs the extension between plan and apply.
        with h.emulator.state.lock:
            live = h.emulator.state.store.get_live(other["id"])
            assert live is not None
            live["properties"]["provisioningState"] = "Succeeded"
            h.emulator.state.store.touch(other["id"])
        applied = h.apply(plan)
        by_action = {c.action: o.status for c, o in zip(plan.changes, applied.outcomes, strict=True)}
        assert by_action == {"delete-extension": "stale", "assess-patches": "skipped"}
        assert h.plan().plan.changes == ()


def test_cli_run_fixes_and_plans_again_clean(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(scenario()))
    args = ["run", "--estate", str(path), "--playbook", "update-extension", "--format", "json"]
    dry = run_cli([args[0], "--dry-run", *args[1:]])
    assert dry.code == 2, dry.stderr
    assert len(json.loads(dry.stdout)["changes"]) == 10
    fixed = run_cli(args)
    assert fixed.code == 0, fixed.stderr
    doc = json.loads(fixed.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    assert doc["plan_after_apply"]["changes"] == []
