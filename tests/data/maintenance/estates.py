"""Builders of maintenance test estates, in ARM's own JSON shapes (DESIGN.md 3.3).

Every builder returns plain dicts, so a test can write the estate to a file, load it into the
emulator, or turn it into an in-memory `Estate` with `to_estate`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from remediator import Estate, Resource, Subscription

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB_A = "aaaaaaaa-0000-0000-0000-000000000001"
SUB_B = "bbbbbbbb-0000-0000-0000-000000000002"
NOW = "2026-11-26T09:00:00Z"
CONFIG_TYPE = "Microsoft.Maintenance/maintenanceConfigurations"


def group(sub: str, name: str, location: str = "westeurope") -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


def vm(
    sub: str,
    rg: str,
    name: str,
    *,
    os: str = "Windows",
    patch_mode: str | None = "AutomaticByPlatform",
    bypass: bool | None = True,
    power: str = "running",
    location: str = "westeurope",
    tags: dict[str, str] | None = None,
    hotpatch: bool = False,
    enable_automatic_updates: bool = True,
    specialized: bool = False,
    time_created: str = "2025-01-01T00:00:00Z",
    vm_id: str | None = None,
) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if patch_mode is not None:
        settings["patchMode"] = patch_mode
    if bypass is not None:
        settings["automaticByPlatformSettings"] = {"bypassPlatformSafetyChecksOnUserSchedule": bypass}
    if hotpatch:
        settings["enableHotpatching"] = True
    if os == "Windows":
        os_config = {
            "windowsConfiguration": {
                "provisionVMAgent": True,
                "enableAutomaticUpdates": enable_automatic_updates,
                "patchSettings": settings,
            }
        }
    else:
        os_config = {
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "provisionVMAgent": True,
                "patchSettings": settings,
            }
        }
    properties: dict[str, Any] = {
        "vmId": vm_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{sub}/{rg}/{name}")),
        "timeCreated": time_created,
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": {"osDisk": {"osType": os, "name": f"{name}-osdisk", "createOption": "FromImage"}},
        "provisioningState": "Succeeded",
        "instanceView": {
            "statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info"},
                {"code": f"PowerState/{power}", "level": "Info"},
            ]
        },
    }
    if not specialized:
        properties["osProfile"] = {"computerName": name, "adminUsername": "azureuser", **os_config}
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{name}",
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": location,
        "tags": tags or {},
        "properties": properties,
    }


def arc(
    sub: str,
    rg: str,
    name: str,
    *,
    os: str = "windows",
    status: str = "Connected",
    location: str = "westeurope",
    tags: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.HybridCompute/machines/{name}",
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": location,
        "tags": tags or {},
        "properties": {"osType": os, "status": status, "provisioningState": "Succeeded"},
    }


def configuration(
    sub: str,
    rg: str,
    name: str,
    *,
    start: str = "2026-01-01 22:00",
    duration: str = "02:00",
    time_zone: str = "UTC",
    recur: str = "Day",
    expiration: str | None = None,
    scope: str = "InGuestPatch",
    location: str = "westeurope",
) -> dict[str, Any]:
    window: dict[str, Any] = {"startDateTime": start, "duration": duration, "timeZone": time_zone, "recurEvery": recur}
    if expiration:
        window["expirationDateTime"] = expiration
    properties: dict[str, Any] = {
        "namespace": "Microsoft.Maintenance",
        "maintenanceScope": scope,
        "visibility": "Custom",
        "maintenanceWindow": window,
    }
    if scope == "InGuestPatch":
        properties["installPatches"] = {
            "rebootSetting": "IfRequired",
            "windowsParameters": {"classificationsToInclude": ["Critical", "Security"]},
            "linuxParameters": {"classificationsToInclude": ["Critical", "Security"]},
        }
        properties["extensionProperties"] = {"InGuestPatchMode": "User"}
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{CONFIG_TYPE}/{name}",
        "name": name,
        "type": "Microsoft.Maintenance/maintenanceConfigurations",
        "location": location,
        "properties": properties,
    }


def assignment(
    scope_id: str,
    config: dict[str, Any],
    name: str | None = None,
    filter_: dict[str, Any] | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    name = name or str(config["name"])
    properties: dict[str, Any] = {"maintenanceConfigurationId": config["id"], "resourceId": scope_id}
    if filter_ is not None:
        properties["filter"] = filter_
    out: dict[str, Any] = {
        "id": f"{scope_id}/providers/Microsoft.Maintenance/configurationAssignments/{name}",
        "name": name,
        "type": "Microsoft.Maintenance/configurationAssignments",
        "location": config.get("location", ""),
        "properties": properties,
    }
    if created_at:
        out["systemData"] = {"createdAt": created_at}
    return out


def apply_update(
    machine_id: str, config: dict[str, Any], start: str, name: str = "run1", status: str = "Completed"
) -> dict[str, Any]:
    return {
        "id": f"{machine_id}/providers/Microsoft.Maintenance/applyUpdates/{name}",
        "name": name,
        "type": "Microsoft.Maintenance/applyUpdates",
        "properties": {
            "maintenanceConfigurationId": config["id"],
            "maintenanceScope": "InGuestPatch",
            "resourceId": machine_id,
            "status": status,
            "startDateTime": start,
            "endDateTime": start,
        },
    }


def installation_result(
    machine_id: str,
    *,
    exceeded: bool,
    start: str,
    started_by: str = "Platform",
    name: str = "inst1",
    status: str = "Failed",
) -> dict[str, Any]:
    machine_type = "virtualmachines" if "/virtualmachines/" in machine_id.lower() else "machines"
    namespace = "microsoft.compute" if machine_type == "virtualmachines" else "microsoft.hybridcompute"
    return {
        "id": f"{machine_id}/patchInstallationResults/{name}",
        "name": name,
        "type": f"{namespace}/{machine_type}/patchinstallationresults",
        "properties": {
            "installationActivityId": name,
            "maintenanceWindowExceeded": exceeded,
            "status": status,
            "startedBy": started_by,
            "startDateTime": start,
            "lastModifiedDateTime": start,
            "maintenanceRunId": None,
        },
    }


def estate(*resources: dict[str, Any], now: str = NOW, subs: tuple[str, ...] = (SUB_A, SUB_B)) -> dict[str, Any]:
    return {
        "now": now,
        "tenantId": TENANT,
        "subscriptions": [{"subscriptionId": s, "displayName": f"sub-{s[:4]}", "state": "Enabled"} for s in subs],
        "resources": list(resources),
    }


def to_estate(doc: dict[str, Any]) -> Estate:
    """The in-memory view a unit test hands to detect/plan (Resource Graph would lowercase types)."""
    return Estate(
        now=datetime.fromisoformat(str(doc["now"]).replace("Z", "+00:00")),
        tenant_id=str(doc.get("tenantId", "")),
        subscriptions=tuple(Subscription(s["subscriptionId"], s.get("displayName", "")) for s in doc["subscriptions"]),
        resources=tuple(Resource.from_arm(r) for r in doc["resources"]),
    )
