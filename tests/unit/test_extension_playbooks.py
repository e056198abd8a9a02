"""update-extension, extension-operations and assessment-errors: pure detect/plan over an Estate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playbooks import assessment_errors, extension_operations, update_extension
from playbooks._extension_model import (
    assessment_failed,
    error_texts,
    extension_operations_blocked,
    machine_os,
    required_extensions,
    update_extensions,
)
from remediator import Context, Estate, Resource
from tests.data.extension.estates import (
    CPLAT,
    arc,
    assessment,
    error,
    extension,
    installation,
    os_update_extension,
    patch_extension,
    vm,
)


def _estate(*resources: dict[str, Any]) -> Estate:
    return Estate(now=datetime(2026, 11, 26, 9, tzinfo=UTC), resources=tuple(Resource.from_arm(r) for r in resources))


def _ctx(*resources: dict[str, Any], **options: Any) -> Context:
    return Context(estate=_estate(*resources), options=options)


def _resource(obj: dict[str, Any]) -> Resource:
    return Resource.from_arm(obj)


# --- the estate model -------------------------------------------------------------------------


def test_os_comes_from_the_os_disk_for_vms_and_os_type_for_arc() -> None:
    assert machine_os(_resource(vm("a", os="Linux"))) == "linux"
    assert machine_os(_resource(arc("b", os="windows"))) == "windows"
    bare = vm("c")
    del bare["properties"]["storageProfile"]
    assert machine_os(_resource(bare)) == "windows"  # from osProfile.windowsConfiguration
    del bare["properties"]["osProfile"]
    assert machine_os(_resource(bare)) == ""


def test_extensions_are_recognised_by_publisher_and_type_not_name() -> None:
    machine = vm("a")
    renamed = extension(machine, CPLAT.lower(), "windowspatchextension", name="patching")
    other = extension(machine, "Microsoft.Azure.Monitor", "AzureMonitorWindowsAgent")
    found = update_extensions(_estate(machine, renamed, other), _resource(machine))
    assert [e.name for e in found] == ["patching"]


def _required(*resources: dict[str, Any], all_machines: bool = False) -> list[str]:
    machine = _resource(resources[0])
    kinds = required_extensions(_estate(*resources), machine, machine_os(machine), all_machines=all_machines)
    return [k.type for k in kinds]


def test_a_missing_extension_is_owed_only_once_azure_had_a_reason_to_install_it() -> None:
    # Platform patching and periodic assessment on, but never assessed nor patched: Azure installs
    # the extension at the first assessment or patch run, so nothing is missing yet.
    fresh = vm("a")
    assert _required(fresh) == []
    assert _required(fresh, assessment(fresh)) == ["WindowsPatchExtension"]
    assert _required(fresh, installation(fresh, "Succeeded")) == ["WindowsPatchExtension"]
    plain_vm = vm("b", patch_mode=None, assessment_mode=None)
    assert _required(plain_vm) == []
    assert _required(plain_vm, assessment(plain_vm)) == ["WindowsPatchExtension"]
    assert _required(plain_vm, all_machines=True) == ["WindowsPatchExtension"]
    plain_arc = arc("c")
    assert _required(plain_arc) == []
    # Periodic assessment results do not need the on-demand extension; a user's operation does.
    assert _required(plain_arc, assessment(plain_arc)) == []
    assert _required(plain_arc, assessment(plain_arc, started_by="User")) == ["LinuxOsUpdateExtension"]
    periodic = arc("d", assessment_mode="AutomaticByPlatform")
    assert _required(periodic) == []
    assert _required(periodic, assessment(periodic)) == ["LinuxPatchExtension"]
    scheduled = arc("e", os="windows")
    scheduled["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["patchMode"] = "AutomaticByPlatform"
    assert _required(scheduled) == []
    assert _required(scheduled, installation(scheduled, "Failed")) == ["WindowsOsUpdateExtension"]


def test_a_broken_arc_os_update_extension_is_reinstalled_even_without_other_signals() -> None:
    machine = arc("a")
    broken = os_update_extension(machine, "Failed")
    ctx = _ctx(machine, broken)
    (finding,) = update_extension.detect(ctx)
    delete, assess = update_extension.plan(ctx, finding)
    assert delete.resource_id == broken["id"]
    assert assess.params == {
        "extensions": [{"publisher": "Microsoft.SoftwareUpdateManagement", "type": "LinuxOsUpdateExtension"}]
    }


def test_error_texts_flatten_nested_details_lists_and_strings() -> None:
    value = [error("A", "first", error("B", "second")), "third", {"message": "fourth"}, None, {"code": ""}]
    assert error_texts(value) == ["A: first", "B: second", "third", "fourth"]


def test_assessment_failed_by_status_or_by_errors_when_graph_has_no_status() -> None:
    machine = vm("a")
    assert assessment_failed(_resource(assessment(machine, "Failed")))
    assert not assessment_failed(_resource(assessment(machine, "Succeeded")))
    assert not assessment_failed(_resource(assessment(machine, "InProgress", error("X", "y"))))
    assert assessment_failed(_resource(assessment(machine, "CompletedWithWarnings", error("X", "y"))))
    assert not assessment_failed(_resource(assessment(machine, "CompletedWithWarnings")))
    assert assessment_failed(_resource(assessment(machine, errors=error("X", "y"), with_status=False)))
    assert not assessment_failed(_resource(assessment(machine, with_status=False)))


def test_what_blocks_extension_operations() -> None:
    assert extension_operations_blocked(_resource(vm("a"))) == ""
    assert "allowExtensionOperations" in extension_operations_blocked(_resource(vm("a", allow_extensions=False)))
    assert "deallocated" in extension_operations_blocked(_resource(vm("a", power="deallocated")))
    assert "Disconnected" in extension_operations_blocked(_resource(arc("b", status="Disconnected")))
    assert "disabled" in extension_operations_blocked(_resource(arc("b", extensions_enabled="false")))
    graph_vm = vm("g")
    graph_vm["properties"].pop("instanceView")
    graph_vm["properties"]["extended"] = {"instanceView": {"powerState": {"code": "PowerState/stopped"}}}
    assert "stopped" in extension_operations_blocked(_resource(graph_vm))


# --- update-extension -------------------------------------------------------------------------


def test_a_failed_extension_is_deleted_before_the_assessment_that_depends_on_it() -> None:
    machine = vm("a")
    failed = patch_extension(machine, "Failed")
    ctx = _ctx(machine, failed)
    (finding,) = update_extension.detect(ctx)
    assert finding.fixable and finding.severity == "high"
    delete, assess = update_extension.plan(ctx, finding)
    assert (delete.action, delete.resource_id) == ("delete-extension", failed["id"])
    assert delete.before == {"exists": True, "provisioningState": "Failed"} and delete.after == {"exists": False}
    assert (assess.action, assess.resource_id) == ("assess-patches", machine["id"])
    assert assess.depends_on == (delete.id,) and delete.order < assess.order
    assert assess.params == {"extensions": [{"publisher": CPLAT, "type": "WindowsPatchExtension"}]}
    assert assess.before == {"updateExtensionsSucceeded": False}
    assert assess.after == {"updateExtensionsSucceeded": True}


def test_a_missing_extension_needs_only_the_assessment() -> None:
    machine = vm("a", os="Linux")
    ctx = _ctx(machine, assessment(machine))
    (finding,) = update_extension.detect(ctx)
    (assess,) = update_extension.plan(ctx, finding)
    assert assess.action == "assess-patches" and assess.depends_on == ()


def test_healthy_and_unmanaged_machines_are_not_flagged() -> None:
    healthy = vm("a")
    unmanaged = vm("b", patch_mode=None, assessment_mode=None)
    no_os = vm("c")
    del no_os["properties"]["storageProfile"]
    del no_os["properties"]["osProfile"]
    ctx = _ctx(healthy, patch_extension(healthy), unmanaged, no_os)
    assert list(update_extension.detect(ctx)) == []
    flagged = [f.resource_id for f in update_extension.detect(_ctx(unmanaged, all_machines=True))]
    assert flagged == [unmanaged["id"]]
    # An assessment on record makes a machine managed even without platform patch settings.
    assert len(list(update_extension.detect(_ctx(unmanaged, assessment(unmanaged))))) == 1


def test_an_extension_in_an_operation_is_reported_not_planned() -> None:
    machine = vm("a")
    (finding,) = update_extension.detect(_ctx(machine, patch_extension(machine, "Updating")))
    assert not finding.fixable
    assert "is Updating" in finding.detail


def test_only_an_unneeded_broken_extension_is_just_removed() -> None:
    machine = arc("a")  # no periodic assessment: the CPlat patch extension is not needed
    broken = patch_extension(machine, "Failed")
    ctx = _ctx(machine, os_update_extension(machine), broken)
    (finding,) = update_extension.detect(ctx)
    assert [c.action for c in update_extension.plan(ctx, finding)] == ["delete-extension"]


def test_auto_assess_with_a_succeeded_extension_is_a_manual_reboot() -> None:
    machine = vm("a", os="Linux")
    failure = assessment(machine, "Failed", error("Failed", "MsftLinuxPatchAutoAssess service isn't running"))
    (finding,) = update_extension.detect(_ctx(machine, patch_extension(machine), failure))
    assert not finding.fixable and finding.severity == "medium"
    assert "reboot" in finding.detail and finding.doc.endswith(
        "#msftlinuxpatchautoassess-service-isnt-running-or-times-out"
    )
    # The same error on Windows is not the Linux service's problem.
    win = vm("w")
    win_failure = assessment(win, "Failed", error("Failed", "MsftLinuxPatchAutoAssess"))
    assert list(update_extension.detect(_ctx(win, patch_extension(win), win_failure))) == []


def test_arc_findings_cite_the_os_update_extension_section() -> None:
    machine = arc("a", os="windows")
    (finding,) = update_extension.detect(_ctx(machine, assessment(machine, started_by="User")))
    assert finding.doc == "troubleshoot.md#windowslinux-os-update-extension-isnt-installed"
    assert "WindowsOsUpdateExtension is not installed" in finding.detail


# --- extension-operations ---------------------------------------------------------------------


def test_allow_extension_operations_false_is_found_and_planned_as_a_single_field_change() -> None:
    locked = vm("a", allow_extensions=False)
    ctx = _ctx(locked, vm("b"), vm("c", allow_extensions=None))
    (finding,) = extension_operations.detect(ctx)
    assert finding.resource_id == locked["id"] and finding.fixable
    (change,) = extension_operations.plan(ctx, finding)
    assert change.action == "set-allow-extension-operations"
    assert (change.before, change.after) == ({"allowExtensionOperations": False}, {"allowExtensionOperations": True})
    assert extension_operations.PLAYBOOK.fix_default is False


# --- assessment-errors ------------------------------------------------------------------------


def test_assessment_errors_reports_failed_latest_results_only() -> None:
    failed = vm("a")
    fine = vm("b")
    ctx = _ctx(
        failed,
        assessment(failed, "Failed", error("0x80070005", "Exception from HRESULT: 0x80070005")),
        fine,
        assessment(fine),
    )
    (finding,) = assessment_errors.detect(ctx)
    assert finding.resource_id == failed["id"] and not finding.fixable
    assert finding.data["causes"] == ["hresult"]
    assert "SoftwareDistribution" in finding.detail
    assert list(assessment_errors.PLAYBOOK.plan(ctx, finding)) == []


def test_a_failed_assessment_without_error_details_is_still_reported() -> None:
    machine = vm("a")
    (finding,) = assessment_errors.detect(_ctx(machine, assessment(machine, "Failed")))
    assert finding.data["causes"] == []
    assert "no error details" in finding.detail


def test_auto_assess_is_also_read_from_the_extension_instance_view() -> None:
    machine = arc("a", assessment_mode="AutomaticByPlatform")
    patch = patch_extension(machine)
    patch["properties"]["instanceView"] = {
        "name": "LinuxPatchExtension",
        "status": {"code": "1", "level": "Error", "message": "MsftLinuxPatchAutoAssess timed out"},
    }
    (finding,) = update_extension.detect(_ctx(machine, patch))
    assert finding.data["auto_assess"] and not finding.fixable
    assert "MsftLinuxPatchAutoAssess" in finding.detail and "reboot" in finding.detail
