"""Resource builders for the estate generator, in ARM's (and Resource Graph's) own JSON shapes."""

from __future__ import annotations

from typing import Any

CPLAT = "Microsoft.CPlat.Core"
MAINTENANCE = "Microsoft.Maintenance"
BUILTIN_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/"
ROLE = "/providers/Microsoft.Authorization/roleDefinitions/"

Json = dict[str, Any]


def group(sub: str, name: str, location: str) -> Json:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }


def management_group(name: str, display: str, children: list[Json]) -> Json:
    return {
        "id": f"/providers/Microsoft.Management/managementGroups/{name}",
        "name": name,
        "type": "Microsoft.Management/managementGroups",
        "properties": {"displayName": display, "children": children},
    }


def vm(
    rg_id: str,
    name: str,
    *,
    vm_id: str,
    os: str,
    location: str,
    power: str = "running",
    patch_mode: str = "AutomaticByPlatform",
    bypass: bool | None = True,
    assessment_mode: str = "AutomaticByPlatform",
    allow_extensions: bool = True,
    os_profile: bool = True,
    attach: bool = False,
    image_id: str | None = None,
    time_created: str = "2025-06-01T00:00:00Z",
    tags: dict[str, str] | None = None,
) -> Json:
    resource_id = f"{rg_id}/providers/Microsoft.Compute/virtualMachines/{name}"
    os_disk: Json = {
        "osType": os,
        "name": f"{name}-osdisk",
        "createOption": "Attach" if attach else "FromImage",
        "managedDisk": {"id": f"{rg_id}/providers/Microsoft.Compute/disks/{name}-osdisk"},
    }
    storage: Json = {"osDisk": os_disk, "dataDisks": []}
    if image_id:
        storage["imageReference"] = {"id": image_id}
    elif not attach:
        storage["imageReference"] = (
            {
                "publisher": "MicrosoftWindowsServer",
                "offer": "WindowsServer",
                "sku": "2022-datacenter-azure-edition",
                "version": "latest",
            }
            if os == "Windows"
            else {
                "publisher": "Canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts-gen2",
                "version": "latest",
            }
        )
    properties: Json = {
        "vmId": vm_id,
        "timeCreated": time_created,
        "provisioningState": "Succeeded",
        "hardwareProfile": {"vmSize": "Standard_D2s_v5"},
        "storageProfile": storage,
        "instanceView": {
            "statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"},
                {"code": f"PowerState/{power}", "level": "Info", "displayStatus": f"VM {power}"},
            ]
        },
    }
    if os_profile:
        settings: Json = {"patchMode": patch_mode, "assessmentMode": assessment_mode}
        if bypass is not None:
            settings["automaticByPlatformSettings"] = {"bypassPlatformSafetyChecksOnUserSchedule": bypass}
        config: Json = {"provisionVMAgent": True, "patchSettings": settings}
        if os == "Windows":
            config["enableAutomaticUpdates"] = True
        key = "windowsConfiguration" if os == "Windows" else "linuxConfiguration"
        properties["osProfile"] = {
            "computerName": name,
            "adminUsername": "azureuser",
            "allowExtensionOperations": allow_extensions,
            key: config,
        }
    return {
        "id": resource_id,
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": location,
        "tags": tags or {},
        "properties": properties,
    }


def arc(
    rg_id: str,
    name: str,
    *,
    vm_id: str,
    os: str,
    location: str,
    status: str = "Connected",
    assessment_mode: str = "AutomaticByPlatform",
    extensions_enabled: bool = True,
    tags: dict[str, str] | None = None,
) -> Json:
    key = "windowsConfiguration" if os == "windows" else "linuxConfiguration"
    return {
        "id": f"{rg_id}/providers/Microsoft.HybridCompute/machines/{name}",
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": location,
        "kind": "",
        "tags": tags or {},
        "identity": {"type": "SystemAssigned", "principalId": vm_id},
        "properties": {
            "provisioningState": "Succeeded",
            "status": status,
            "vmId": vm_id,
            "osName": os,
            "osType": os,
            "agentVersion": "1.38.02589.1",
            "osProfile": {"computerName": name, key: {"patchSettings": {"assessmentMode": assessment_mode}}},
            "agentConfiguration": {
                "extensionsEnabled": "true" if extensions_enabled else "false",
                "extensionsAllowList": [],
                "extensionsBlockList": [],
            },
        },
    }


def patch_extension(machine: Json, os: str, state: str = "Succeeded") -> Json:
    ext_type = "WindowsPatchExtension" if os.lower() == "windows" else "LinuxPatchExtension"
    return _extension(machine, CPLAT, ext_type, state)


def os_update_extension(machine: Json, os: str, state: str = "Succeeded") -> Json:
    """The Arc OS update extension, which on-demand operations and scheduled patching install."""
    ext_type = "WindowsOsUpdateExtension" if os.lower() == "windows" else "LinuxOsUpdateExtension"
    return _extension(machine, "Microsoft.SoftwareUpdateManagement", ext_type, state)


def _extension(machine: Json, publisher: str, ext_type: str, state: str) -> Json:
    return {
        "id": f"{machine['id']}/extensions/{ext_type}",
        "name": ext_type,
        "type": f"{machine['type']}/extensions",
        "location": machine["location"],
        "properties": {
            "publisher": publisher,
            "type": ext_type,
            "typeHandlerVersion": "1.0",
            "autoUpgradeMinorVersion": True,
            "provisioningState": state,
        },
    }


def assessment(machine: Json, os: str, when: str, *, status: str = "Succeeded", errors: Json | None = None) -> Json:
    windows = os.lower() == "windows"
    return {
        "id": f"{machine['id']}/patchAssessmentResults/latest",
        "type": f"{machine['type']}/patchAssessmentResults".lower(),
        "location": machine["location"],
        "properties": {
            "version": "1.0",
            "status": status,
            "rebootPending": False,
            "patchServiceUsed": "WU" if windows else "APT",
            "osType": "Windows" if windows else "Linux",
            "startedBy": "Platform",
            "startDateTime": when,
            "lastModifiedDateTime": when,
            "errorDetails": errors,
            "availablePatchCountByClassification": {"security": 1, "critical": 0, "other": 3},
        },
    }


def installation(machine: Json, when: str, *, exceeded: bool, status: str, errors: Json | None = None) -> Json:
    return {
        "id": f"{machine['id']}/patchInstallationResults/run-{when[:10]}",
        "type": f"{machine['type']}/patchInstallationResults".lower(),
        "location": machine["location"],
        "properties": {
            "status": status,
            "maintenanceWindowExceeded": exceeded,
            "startedBy": "Platform",
            "startDateTime": when,
            "lastModifiedDateTime": when,
            "installedPatchCount": 3,
            "failedPatchCount": 1 if status == "Failed" else 0,
            "errorDetails": errors,
        },
    }


def configuration(rg_id: str, name: str, location: str, *, start: str, duration: str, zone: str, recur: str) -> Json:
    return {
        "id": f"{rg_id}/providers/{MAINTENANCE}/maintenanceConfigurations/{name}",
        "name": name,
        "type": f"{MAINTENANCE}/maintenanceConfigurations",
        "location": location,
        "properties": {
            "namespace": MAINTENANCE,
            "maintenanceScope": "InGuestPatch",
            "visibility": "Custom",
            "maintenanceWindow": {"startDateTime": start, "duration": duration, "timeZone": zone, "recurEvery": recur},
            "installPatches": {
                "rebootSetting": "IfRequired",
                "windowsParameters": {"classificationsToInclude": ["Critical", "Security"]},
                "linuxParameters": {"classificationsToInclude": ["Critical", "Security"]},
            },
            "extensionProperties": {"InGuestPatchMode": "User"},
        },
    }


def configuration_assignment(scope_id: str, config: Json, *, name: str = "", filter_: Json | None = None) -> Json:
    name = name or str(config["name"])
    properties: Json = {"maintenanceConfigurationId": config["id"], "resourceId": scope_id}
    if filter_ is not None:
        properties["filter"] = filter_
    return {
        "id": f"{scope_id}/providers/{MAINTENANCE}/configurationAssignments/{name}",
        "name": name,
        "type": f"{MAINTENANCE}/configurationAssignments",
        "location": config["location"],
        "properties": properties,
    }


def apply_update(machine_id: str, config: Json, when: str) -> Json:
    return {
        "id": f"{machine_id}/providers/{MAINTENANCE}/applyUpdates/{when[:10]}",
        "name": when[:10],
        "type": f"{MAINTENANCE}/applyUpdates",
        "properties": {
            "maintenanceConfigurationId": config["id"],
            "maintenanceScope": "InGuestPatch",
            "resourceId": machine_id,
            "status": "Completed",
            "startDateTime": when,
            "endDateTime": when,
        },
    }


def policy_assignment(
    scope: str, name: str, definition: str, principal: str, tenant: str, location: str, os_type: str | None = None
) -> Json:
    # The assessment policies take osType (default Windows): a landing zone assigns them once per OS.
    parameters = {"osType": {"value": os_type}} if os_type else {}
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/policyAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyAssignments",
        "location": location,
        "identity": {"type": "SystemAssigned", "principalId": principal, "tenantId": tenant},
        "properties": {
            "displayName": name,
            "policyDefinitionId": BUILTIN_POLICY + definition,
            "scope": scope,
            "parameters": parameters,
            "enforcementMode": "Default",
        },
    }


def role_assignment(scope: str, name: str, principal: str, role: str) -> Json:
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "scope": scope,
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": ROLE + role,
        },
    }


def gallery_image(rg_id: str, location: str) -> list[Json]:
    gallery = f"{rg_id}/providers/Microsoft.Compute/galleries/golden"
    image = f"{gallery}/images/windows-specialized"
    return [
        {"id": gallery, "type": "Microsoft.Compute/galleries", "location": location, "properties": {}},
        {
            "id": image,
            "type": "Microsoft.Compute/galleries/images",
            "location": location,
            "properties": {
                "osType": "Windows",
                "osState": "Specialized",
                "identifier": {"publisher": "contoso", "offer": "golden", "sku": "windows"},
            },
        },
        {
            "id": f"{image}/versions/1.0.0",
            "type": "Microsoft.Compute/galleries/images/versions",
            "location": location,
            "properties": {"provisioningState": "Succeeded"},
        },
    ]


def policy_state(resource_id: str, assignment: Json, compliant: bool, when: str) -> Json:
    return {
        "resourceId": resource_id,
        "policyAssignmentId": assignment["id"],
        "policyDefinitionId": assignment["properties"]["policyDefinitionId"],
        "complianceState": "Compliant" if compliant else "NonCompliant",
        "timestamp": when,
    }
