"""Estate builders for the extension playbooks' tests, in ARM's (and Resource Graph's) own shapes."""

from __future__ import annotations

import uuid
from typing import Any

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB = "eeeeeeee-0000-0000-0000-000000000001"
NOW = "2026-11-26T09:00:00Z"

CPLAT = "Microsoft.CPlat.Core"
SUM = "Microsoft.SoftwareUpdateManagement"


def group(name: str, sub: str = SUB) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Succeeded"},
    }


def vm(
    name: str,
    *,
    os: str = "Windows",
    rg: str = "rg-app",
    allow_extensions: bool | None = True,
    power: str = "running",
    patch_mode: str | None = "AutomaticByPlatform",
    assessment_mode: str | None = "AutomaticByPlatform",
    sub: str = SUB,
) -> dict[str, Any]:
    config_key = "windowsConfiguration" if os == "Windows" else "linuxConfiguration"
    patch_settings = {
        k: v for k, v in (("patchMode", patch_mode), ("assessmentMode", assessment_mode)) if v is not None
    }
    os_profile: dict[str, Any] = {
        "computerName": name,
        "adminUsername": "azureuser",
        config_key: {"provisionVMAgent": True, "patchSettings": patch_settings},
    }
    if allow_extensions is not None:
        os_profile["allowExtensionOperations"] = allow_extensions
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "tags": {},
        "properties": {
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/{rg}/{name}")),
            "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
            "storageProfile": {"osDisk": {"osType": os, "name": f"{name}-os", "createOption": "FromImage"}},
            "osProfile": os_profile,
            "provisioningState": "Succeeded",
            "instanceView": {
                "statuses": [
                    {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"},
                    {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
                ]
            },
        },
    }


def arc(
    name: str,
    *,
    os: str = "linux",
    rg: str = "rg-arc",
    status: str = "Connected",
    extensions_enabled: str = "true",
    assessment_mode: str | None = None,
    sub: str = SUB,
) -> dict[str, Any]:
    config_key = "windowsConfiguration" if os == "windows" else "linuxConfiguration"
    patch_settings = {"assessmentMode": assessment_mode} if assessment_mode else {}
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.HybridCompute/machines/{name}",
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": "westeurope",
        "tags": {},
        "properties": {
            "osType": os,
            "status": status,
            "provisioningState": "Succeeded",
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/{rg}/{name}")),
            "osProfile": {"computerName": name, config_key: {"patchSettings": patch_settings}},
            "agentConfiguration": {
                "extensionsEnabled": extensions_enabled,
                "extensionsAllowList": [],
                "extensionsBlockList": [],
            },
        },
    }


def extension(
    machine: dict[str, Any], publisher: str, ext_type: str, state: str = "Succeeded", name: str | None = None
) -> dict[str, Any]:
    child = f"{machine['type']}/extensions"
    ext_name = name or ext_type
    return {
        "id": f"{machine['id']}/extensions/{ext_name}",
        "name": ext_name,
        "type": child,
        "location": machine["location"],
        "properties": {
            "publisher": publisher,
            "type": ext_type,
            "typeHandlerVersion": "1.0",
            "autoUpgradeMinorVersion": True,
            "provisioningState": state,
        },
    }


def patch_extension(machine: dict[str, Any], state: str = "Succeeded", name: str | None = None) -> dict[str, Any]:
    os = _os(machine)
    return extension(machine, CPLAT, "WindowsPatchExtension" if os == "windows" else "LinuxPatchExtension", state, name)


def os_update_extension(machine: dict[str, Any], state: str = "Succeeded") -> dict[str, Any]:
    os = _os(machine)
    return extension(machine, SUM, "WindowsOsUpdateExtension" if os == "windows" else "LinuxOsUpdateExtension", state)


def assessment(
    machine: dict[str, Any],
    status: str = "Succeeded",
    errors: Any = None,
    *,
    with_status: bool = True,
    started_by: str = "Platform",
) -> dict[str, Any]:
    """``<machine>/patchAssessmentResults/latest`` as Resource Graph's patchassessmentresources holds it."""
    activity = str(uuid.uuid5(uuid.NAMESPACE_URL, machine["id"] + "/assessment"))
    os = _os(machine)
    properties: dict[str, Any] = {
        "version": "1.0",
        "assessmentActivityId": activity,
        "rebootPending": False,
        "patchServiceUsed": "WU-WSUS" if os == "windows" else "APT",
        "osType": "Windows" if os == "windows" else "Linux",
        "startDateTime": "2026-11-26T07:58:00Z",
        "lastModifiedDateTime": "2026-11-26T08:00:00Z",
        "startedBy": started_by,
        "errorDetails": errors,
        "availablePatchCountByClassification": {"security": 0, "critical": 0, "other": 0},
    }
    if with_status:
        properties["status"] = status
    # Resource Graph names this row after the assessment run (query-logs.md), but the emulator's
    # estate check wants name == last id segment, so the name is left for the emulator to fill.
    return {
        "id": f"{machine['id']}/patchAssessmentResults/latest",
        "type": f"{machine['type']}/patchAssessmentResults",
        "location": machine["location"],
        "properties": properties,
    }


def installation(
    machine: dict[str, Any],
    status: str,
    errors: Any = None,
    *,
    when: str = "2026-11-25T22:05:00Z",
    exceeded: bool = False,
    started_by: str = "Platform",
) -> dict[str, Any]:
    """``<machine>/patchInstallationResults/<run>`` as Resource Graph's patchinstallationresources holds it
    (query-logs.md, "Description of the patchinstallationresults property")."""
    run = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{machine['id']}/installation/{when}"))
    return {
        "id": f"{machine['id']}/patchInstallationResults/{run}",
        "type": f"{machine['type']}/patchInstallationResults",
        "location": machine["location"],
        "properties": {
            "installationActivityId": run,
            "status": status,
            "maintenanceWindowExceeded": exceeded,
            "lastModifiedDateTime": when,
            "startDateTime": when,
            "startedBy": started_by,
            "rebootStatus": "NotNeeded",
            "installedPatchCount": 0 if status == "Failed" else 3,
            "failedPatchCount": 1 if status == "Failed" else 0,
            "pendingPatchCount": 0,
            "notSelectedPatchCount": 0,
            "excludedPatchCount": 0,
            "patchServiceUsed": "WU" if _os(machine) == "windows" else "APT",
            "osType": "Windows" if _os(machine) == "windows" else "Linux",
            "errorDetails": errors,
        },
    }


def error(code: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    return {"code": code, "message": message, "details": list(details)}


def _os(machine: dict[str, Any]) -> str:
    props = machine["properties"]
    return str(props.get("osType") or props["storageProfile"]["osDisk"]["osType"]).lower()


def estate(*resources: dict[str, Any], groups: tuple[str, ...] = ("rg-app", "rg-arc")) -> dict[str, Any]:
    return {
        "now": NOW,
        "tenantId": TENANT,
        "subscriptions": [{"subscriptionId": SUB, "displayName": "prod", "state": "Enabled", "tenantId": TENANT}],
        "resources": [group(g) for g in groups] + list(resources),
    }
