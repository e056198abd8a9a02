"""On-demand patch assessment (``assessPatches``) of Azure VMs and Arc machines, and the extension
guard it leans on.

What the service does, as Update Manager's docs describe it (this module is the emulator's own
reading, written independently of the bot's playbooks on purpose):

* An on-demand assessment installs the update extension when the machine lacks it
  (troubleshoot.md, "Windows/Linux patch update extension isn't installed" / "OS update extension
  isn't installed"). The extension per machine kind and OS (prerequisites.md, "VM extensions"):
  Azure VMs ``Microsoft.CPlat.Core`` ``WindowsPatchExtension`` / ``LinuxPatchExtension``; Arc
  machines ``Microsoft.SoftwareUpdateManagement`` ``WindowsOsUpdateExtension`` /
  ``LinuxOsUpdateExtension`` for on-demand operations, plus the ``Microsoft.CPlat.Core`` one for
  periodic assessment (installed here when the machine's assessmentMode is AutomaticByPlatform).
* An extension that is present but Failed is NOT repaired by an assessment: the docs say to
  remove it first. Here the assessment then fails with ``VMExtensionProvisioningError`` and the
  latest result records the failure.
* The result lands in Resource Graph's ``patchassessmentresources`` as
  ``<machine>/patchAssessmentResults/latest`` (query-logs.md). Errors of the machine's own update
  agent (HRESULTs, sudo, proxy, repositories, ...) are the machine's, so a new assessment reports
  them again; errors about the extension itself (or its MsftLinuxPatchAutoAssess service) are
  gone once a healthy extension ran the assessment.
* Extension operations on a VM whose ``osProfile.allowExtensionOperations`` is false, on a VM
  that is not running, or on an Arc machine that is not Connected are refused
  (409 ``OperationNotAllowed``).

Shapes: Compute's ``VirtualMachineAssessPatchesResult`` (``error``: ApiError) and HybridCompute's
``MachineAssessPatchesResult`` (``errorDetails``), as in the specs' AssessPatches examples.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.arm_generic import check_scope, delete_resource, not_found, put_resource
from remediator.emulator.routing import (
    ArmError,
    OperationOutcome,
    Request,
    Response,
    Route,
    long_running,
    route,
)
from remediator.emulator.shapes import power_state_code
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import split_id
from remediator.emulator.vm_writes import refuse_concurrent_write, track

ROUTES: list[Route] = []

GROUP_PATH = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers"
VM_PATH = GROUP_PATH + "/Microsoft.Compute/virtualMachines/{machineName}"
ARC_PATH = GROUP_PATH + "/Microsoft.HybridCompute/machines/{machineName}"

VM_TYPE = "microsoft.compute/virtualmachines"
ARC_TYPE = "microsoft.hybridcompute/machines"
CPLAT = "Microsoft.CPlat.Core"
SUM = "Microsoft.SoftwareUpdateManagement"
# (publisher, type) the on-demand assessment needs, per machine kind and OS.
ON_DEMAND_EXTENSION = {
    (VM_TYPE, "windows"): (CPLAT, "WindowsPatchExtension"),
    (VM_TYPE, "linux"): (CPLAT, "LinuxPatchExtension"),
    (ARC_TYPE, "windows"): (SUM, "WindowsOsUpdateExtension"),
    (ARC_TYPE, "linux"): (SUM, "LinuxOsUpdateExtension"),
}
PERIODIC_EXTENSION = {"windows": (CPLAT, "WindowsPatchExtension"), "linux": (CPLAT, "LinuxPatchExtension")}
TYPE_HANDLER_VERSION = {
    "WindowsPatchExtension": "1.5",
    "LinuxPatchExtension": "1.6",
    "WindowsOsUpdateExtension": "1.0",
    "LinuxOsUpdateExtension": "1.0",
}
PATCH_SERVICE = {"windows": "WU-WSUS", "linux": "APT"}
BROKEN_STATES = frozenset({"failed", "canceled"})
NOT_RUNNING = frozenset({"PowerState/deallocated", "PowerState/deallocating", "PowerState/stopped"})
EXTENSION_FAILURE_CODE = "VMExtensionProvisioningError"
# Words of a previous result's errors that the extension, not the machine, caused.
_EXTENSION_WORDS = ("extension", "msftlinuxpatchautoassess")


def _machine_id(request: Request, namespace_type: str) -> str:
    p = request.params
    return (
        f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
        f"/providers/{namespace_type}/{p['machineName']}"
    )


def _dig(obj: Any, *path: str) -> Any:
    for step in path:
        obj = obj.get(step) if isinstance(obj, dict) else None
    return obj


def machine_os(machine: dict[str, Any]) -> str:
    """``windows`` or ``linux`` (lowercase), from Compute's or HybridCompute's properties."""
    properties = machine.get("properties") or {}
    found = (
        _dig(properties, "storageProfile", "osDisk", "osType")
        or properties.get("osType")
        or ("windows" if _dig(properties, "osProfile", "windowsConfiguration") is not None else "")
        or ("linux" if _dig(properties, "osProfile", "linuxConfiguration") is not None else "")
    )
    return str(found).lower()


def _assessment_mode(machine: dict[str, Any], os_name: str) -> str:
    key = "windowsConfiguration" if os_name == "windows" else "linuxConfiguration"
    return str(_dig(machine, "properties", "osProfile", key, "patchSettings", "assessmentMode") or "")


def _extensions(state: EmulatorState, machine_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in state.store.under(machine_id)
        if str(e.get("type", "")).lower().endswith("/extensions")
        and len(split_id(str(e["id"]))) == len(split_id(machine_id)) + 2
    ]


def _find_extension(state: EmulatorState, machine_id: str, wanted: tuple[str, str]) -> dict[str, Any] | None:
    publisher, ext_type = (w.lower() for w in wanted)
    for extension in _extensions(state, machine_id):
        properties = extension.get("properties") or {}
        if (
            str(properties.get("publisher", "")).lower() == publisher
            and str(properties.get("type", "")).lower() == ext_type
        ):
            return extension
    return None


def refuse_extension_operations(machine: dict[str, Any]) -> None:
    """409 OperationNotAllowed when the machine cannot run extension operations now."""
    kind = str(machine.get("type", "")).lower()
    properties = machine.get("properties") or {}
    name = machine.get("name", "")
    if kind == VM_TYPE:
        if _dig(properties, "osProfile", "allowExtensionOperations") is False:
            raise ArmError(
                409,
                "OperationNotAllowed",
                f"Extension operations are disallowed on VM '{name}' because osProfile.allowExtensionOperations "
                "is false.",
            )
        if power_state_code(machine) in NOT_RUNNING:
            raise ArmError(
                409, "OperationNotAllowed", f"Cannot modify extensions in VM '{name}' when the VM is not running."
            )
    elif kind == ARC_TYPE:
        status = str(properties.get("status") or "Connected")
        enabled = str(_dig(properties, "agentConfiguration", "extensionsEnabled") or "true")
        if enabled.lower() == "false":
            raise ArmError(
                409,
                "OperationNotAllowed",
                f"Extensions are disabled in the Connected Machine agent's configuration on '{name}'.",
            )
        if status.lower() != "connected":
            raise ArmError(
                409,
                "OperationNotAllowed",
                f"The Arc-enabled server '{name}' is {status}; extension operations need a Connected machine.",
            )


def _namespace_type(machine: dict[str, Any]) -> str:
    if str(machine["type"]).lower() == VM_TYPE:
        return "Microsoft.Compute/virtualMachines"
    return "Microsoft.HybridCompute/machines"


def _install(state: EmulatorState, machine: dict[str, Any], wanted: tuple[str, str]) -> None:
    publisher, ext_type = wanted
    kind = _namespace_type(machine)
    extension = {
        "id": f"{machine['id']}/extensions/{ext_type}",
        "name": ext_type,
        "type": f"{kind}/extensions",
        "location": machine.get("location", ""),
        "properties": {
            "publisher": publisher,
            "type": ext_type,
            "typeHandlerVersion": TYPE_HANDLER_VERSION[ext_type],
            "autoUpgradeMinorVersion": True,
            "provisioningState": "Succeeded",
        },
    }
    state.store.put(extension)


def _carried_errors(previous: dict[str, Any] | None) -> Any:
    """The previous result's errors that belong to the machine (they come back on every run)."""
    if previous is None:
        return None
    errors = _dig(previous, "properties", "errorDetails")
    if not errors:
        return None
    text = str(errors).lower()
    if any(word in text for word in _EXTENSION_WORDS):
        return None
    return copy.deepcopy(errors)


def _write_result(state: EmulatorState, machine: dict[str, Any], os_name: str, errors: Any) -> dict[str, Any]:
    activity = str(uuid.uuid4())
    now = state.now_iso()
    namespace_type = _namespace_type(machine)
    properties: dict[str, Any] = {
        "version": "1.0",
        "status": "Failed" if errors else "Succeeded",
        "assessmentActivityId": activity,
        "rebootPending": False,
        "patchServiceUsed": PATCH_SERVICE.get(os_name, ""),
        "osType": "Windows" if os_name == "windows" else "Linux",
        "startDateTime": now,
        "lastModifiedDateTime": now,
        "startedBy": "User",
        "errorDetails": errors,
        "availablePatchCountByClassification": {"security": 0, "critical": 0, "other": 0}
        if os_name == "linux"
        else {
            "security": 0,
            "critical": 0,
            "updateRollup": 0,
            "featurePack": 0,
            "servicePack": 0,
            "definition": 0,
            "tools": 0,
            "updates": 0,
        },
    }
    row = {
        "id": f"{machine['id']}/patchAssessmentResults/latest",
        # Resource Graph names the latest result after its assessment run (query-logs.md).
        "name": activity,
        "type": f"{namespace_type}/patchAssessmentResults",
        "location": machine.get("location", ""),
        "properties": properties,
    }
    state.store.put(row)
    return properties


def _operation_result(kind: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The LRO's final body: Compute's or HybridCompute's AssessPatchesResult."""
    keys = (
        "status",
        "assessmentActivityId",
        "rebootPending",
        "startDateTime",
        "lastModifiedDateTime",
        "startedBy",
        "osType",
        "availablePatchCountByClassification",
    )
    body = {k: properties.get(k) for k in keys}
    error = _one_error(properties.get("errorDetails"))
    if kind == VM_TYPE:
        body["criticalAndSecurityPatchCount"] = 0
        body["otherPatchCount"] = 0
        body["availablePatches"] = []
        if error:
            body["error"] = error
    else:
        body["errorDetails"] = error
    return body


def _one_error(errors: Any) -> dict[str, Any] | None:
    """Compute's ApiError / HybridCompute's ErrorDetail: one object; a list becomes its details."""
    if not errors:
        return None
    if isinstance(errors, dict):
        return errors
    items = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    first = items[0] if items else {"code": "AssessmentFailed", "message": str(errors)}
    return {"code": first.get("code", "AssessmentFailed"), "message": first.get("message", ""), "details": items}


def _assess(state: EmulatorState, request: Request, machine_id: str) -> Response:
    check_scope(state, machine_id)
    machine = state.store.get_live(machine_id)
    if machine is None:
        raise not_found(machine_id)
    refuse_extension_operations(machine)
    refuse_concurrent_write(state, machine_id)
    os_name = machine_os(machine)
    kind = str(machine.get("type", "")).lower()
    if (kind, os_name) not in ON_DEMAND_EXTENSION:
        raise ArmError(400, "InvalidParameter", f"The machine '{machine.get('name')}' reports no supported osType.")

    def complete() -> OperationOutcome:
        stored = state.store.get_live(machine_id)
        if stored is None:
            raise not_found(machine_id)
        wanted = [ON_DEMAND_EXTENSION[(kind, os_name)]]
        if kind == ARC_TYPE and _assessment_mode(stored, os_name) == "AutomaticByPlatform":
            wanted.append(PERIODIC_EXTENSION[os_name])
        previous = state.store.get(f"{machine_id}/patchAssessmentResults/latest")
        for extension_kind in wanted:
            existing = _find_extension(state, machine_id, extension_kind)
            provisioning = str(_dig(existing, "properties", "provisioningState") or "")
            if existing is not None and provisioning.lower() in BROKEN_STATES:
                message = (
                    f"The extension '{existing['name']}' ({extension_kind[0]}.{extension_kind[1]}) is in provisioning "
                    f"state '{provisioning}'. Remove the extension, then trigger the operation again."
                )
                _write_result(state, stored, os_name, {"code": EXTENSION_FAILURE_CODE, "message": message})
                raise ArmError(409, EXTENSION_FAILURE_CODE, message)
            if existing is None:
                _install(state, stored, extension_kind)
            elif provisioning.lower() != "succeeded":
                # An extension still in an operation: the assessment's own install completes it.
                existing["properties"]["provisioningState"] = "Succeeded"
                state.store.touch(str(existing["id"]))
        properties = _write_result(state, stored, os_name, _carried_errors(previous))
        return OperationOutcome(result=_operation_result(kind, properties))

    return track(state, machine_id, long_running(state, request, complete=complete, status=202))


@route(ROUTES, "POST", VM_PATH + "/assessPatches", api_versions=api_versions.COMPUTE)
def assess_vm_patches(state: EmulatorState, request: Request) -> Response:
    return _assess(state, request, _machine_id(request, "Microsoft.Compute/virtualMachines"))


@route(ROUTES, "POST", ARC_PATH + "/assessPatches", api_versions=api_versions.HYBRID_COMPUTE)
def assess_arc_patches(state: EmulatorState, request: Request) -> Response:
    return _assess(state, request, _machine_id(request, "Microsoft.HybridCompute/machines"))


def _guarded_extension_write(state: EmulatorState, request: Request, machine_id: str) -> Response:
    """PUT or DELETE of an extension, refused when the machine cannot run extension operations."""
    machine = state.store.get_live(machine_id)
    if machine is not None:
        refuse_extension_operations(machine)
        refuse_concurrent_write(state, machine_id)
    extension_id = f"{machine_id}/extensions/{request.params['extensionName']}"
    handler = put_resource if request.method.upper() == "PUT" else delete_resource
    return track(state, machine_id, handler(state, _with_resource_id(request, extension_id)))


def _with_resource_id(request: Request, resource_id: str) -> Request:
    return Request(
        method=request.method,
        path=request.path,
        params={"resourceId": resource_id},
        query=request.query,
        body=request.body,
        headers=request.headers,
        base_url=request.base_url,
        principal=request.principal,
        extra_headers=request.extra_headers,
    )


@route(ROUTES, "PUT", VM_PATH + "/extensions/{extensionName}", api_versions=api_versions.COMPUTE)
def put_vm_extension(state: EmulatorState, request: Request) -> Response:
    return _guarded_extension_write(state, request, _machine_id(request, "Microsoft.Compute/virtualMachines"))


@route(ROUTES, "PUT", ARC_PATH + "/extensions/{extensionName}", api_versions=api_versions.HYBRID_COMPUTE)
def put_arc_extension(state: EmulatorState, request: Request) -> Response:
    return _guarded_extension_write(state, request, _machine_id(request, "Microsoft.HybridCompute/machines"))


@route(ROUTES, "DELETE", VM_PATH + "/extensions/{extensionName}", api_versions=api_versions.COMPUTE)
def delete_vm_extension(state: EmulatorState, request: Request) -> Response:
    return _guarded_extension_write(state, request, _machine_id(request, "Microsoft.Compute/virtualMachines"))


@route(ROUTES, "DELETE", ARC_PATH + "/extensions/{extensionName}", api_versions=api_versions.HYBRID_COMPUTE)
def delete_arc_extension(state: EmulatorState, request: Request) -> Response:
    return _guarded_extension_write(state, request, _machine_id(request, "Microsoft.HybridCompute/machines"))
