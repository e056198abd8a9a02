"""What one remediation deployment does to one machine, and what it must be allowed to do.

The emulator's own reading of the Azure Update Manager built-ins (written independently of the
playbooks on purpose):

* modify, VM periodic assessment (59efceea): ``osProfile.<os>Configuration.patchSettings.assessmentMode``;
* modify, Arc periodic assessment (bfea026e): the same on the Arc machine;
* deployIfNotExists, scheduling prerequisites (9905ca54): ``patchMode`` AutomaticByPlatform and
  ``automaticByPlatformSettings.bypassPlatformSafetyChecksOnUserSchedule`` true, by a template
  deployment in the VM's resource group;
* deployIfNotExists, schedule (ba0df93e): the prerequisites on VMs, plus the configuration
  assignment ``uniqueString(tolower(configId))-AzPolicy`` on the machine.

The identity must hold the effect's write actions at the machine (and, for a deployment, at its
resource group), and read access wherever the VM's image, disks and disk encryption sets live and
where the maintenance configuration lives. Custom modify definitions apply their own
``addOrReplace`` operations.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from remediator.emulator.store import resource_group_of, split_id, subscription_of

VM_ASSESSMENT = "59efceea-0c96-497e-a4a1-4eb2290dac15"
ARC_ASSESSMENT = "bfea026e-043f-4ff4-9d1b-bf301ca7ff46"
PREREQUISITES = "9905ca54-1471-49c6-8291-7582c04cd4d4"
SCHEDULING = "ba0df93e-e4ac-479a-aac2-134bbae39a1a"
VM_TYPE = "microsoft.compute/virtualmachines"
ARC_TYPE = "microsoft.hybridcompute/machines"


@dataclass
class Plan:
    """The checks and writes of one deployment."""

    checks: list[tuple[str, str]] = field(default_factory=list)  # (action, scope)
    patch_settings: dict[str, Any] = field(default_factory=dict)
    modify_fields: list[tuple[str, Any]] = field(default_factory=list)  # dotted property path, value
    configuration_id: str = ""


def parameter(parameters: dict[str, Any], declared: dict[str, Any], name: str) -> Any:
    for key, given in parameters.items():
        if key.lower() == name.lower() and isinstance(given, dict):
            return given.get("value")
    for key, spec in declared.items():
        if key.lower() == name.lower() and isinstance(spec, dict):
            return spec.get("defaultValue")
    return None


def os_config_key(machine: dict[str, Any], os_param: Any) -> str:
    """``windowsConfiguration`` or ``linuxConfiguration`` for the machine."""
    props = machine.get("properties") or {}
    os_name = str(os_param or "")
    if not os_name:
        disk = ((props.get("storageProfile") or {}).get("osDisk") or {}).get("osType")
        os_name = str(disk or props.get("osType") or props.get("osName") or "windows")
    return "linuxConfiguration" if os_name.lower().startswith("linux") else "windowsConfiguration"


def linked_reads(machine: dict[str, Any]) -> list[tuple[str, str]]:
    """(read action, scope) for the image, disks and encryption sets a VM references."""
    storage = (machine.get("properties") or {}).get("storageProfile") or {}
    out: list[tuple[str, str]] = []
    image_id = str((storage.get("imageReference") or {}).get("id") or "")
    if "/galleries/" in image_id.lower():
        action = (
            "Microsoft.Compute/galleries/images/versions/read"
            if "/versions/" in image_id.lower()
            else ("Microsoft.Compute/galleries/images/read")
        )
        out.append((action, image_id))
    elif image_id:
        out.append(("Microsoft.Compute/images/read", image_id))
    disks = [storage.get("osDisk") or {}, *(storage.get("dataDisks") or [])]
    for disk in disks:
        managed = disk.get("managedDisk") or {}
        if managed.get("id"):
            out.append(("Microsoft.Compute/disks/read", str(managed["id"])))
        encryption = (managed.get("diskEncryptionSet") or {}).get("id")
        if encryption:
            out.append(("Microsoft.Compute/diskEncryptionSets/read", str(encryption)))
    return out


def unique_string(value: str) -> str:
    """A stand-in for ARM's ``uniqueString()``: 13 deterministic lowercase base32 characters."""
    digest = hashlib.sha256(value.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    number = int.from_bytes(digest[:9], "big")
    return "".join(alphabet[(number >> (5 * i)) & 31] for i in range(13))


def configuration_assignment_id(machine_id: str, configuration_id: str) -> str:
    name = unique_string(configuration_id.lower()) + "-AzPolicy"
    return f"{machine_id}/providers/Microsoft.Maintenance/configurationAssignments/{name}"


def plan_deployment(
    machine: dict[str, Any], definition: dict[str, Any], parameters: dict[str, Any], effect: str
) -> Plan:
    machine_id = str(machine["id"])
    machine_type = str(machine.get("type", "")).lower()
    guid = split_id(str(definition.get("id", "")))[-1].lower() if definition.get("id") else ""
    declared = (definition.get("properties") or {}).get("parameters") or {}
    write = (
        "Microsoft.Compute/virtualMachines/write"
        if machine_type == VM_TYPE
        else ("Microsoft.HybridCompute/machines/write")
    )
    plan = Plan()
    if effect == "deployifnotexists":
        group = f"/subscriptions/{subscription_of(machine_id)}/resourceGroups/{resource_group_of(machine_id)}"
        plan.checks.append(("Microsoft.Resources/deployments/write", group))
    if guid in (VM_ASSESSMENT, ARC_ASSESSMENT):
        key = os_config_key(machine, parameter(parameters, declared, "osType"))
        mode = parameter(parameters, declared, "assessmentMode") or "AutomaticByPlatform"
        plan.checks.append((write, machine_id))
        plan.modify_fields.append((f"osProfile.{key}.patchSettings.assessmentMode", mode))
    elif guid in (PREREQUISITES, SCHEDULING):
        if machine_type == VM_TYPE:
            plan.checks.append((write, machine_id))
            plan.patch_settings = {
                "patchMode": "AutomaticByPlatform",
                "automaticByPlatformSettings": {"bypassPlatformSafetyChecksOnUserSchedule": True},
            }
        if guid == SCHEDULING:
            config = str(parameter(parameters, declared, "maintenanceConfigurationResourceId") or "")
            plan.configuration_id = config
            plan.checks.append(("Microsoft.Maintenance/configurationAssignments/write", machine_id))
            if config:
                plan.checks.append(("Microsoft.Maintenance/maintenanceConfigurations/read", config))
    else:
        plan.checks.append((write, machine_id))
        details = ((definition.get("properties") or {}).get("policyRule") or {}).get("then", {}).get("details") or {}
        for operation in details.get("operations") or []:
            if str(operation.get("operation", "")).lower() == "addorreplace" and "condition" not in operation:
                alias = str(operation.get("field", ""))
                path = alias.split("/", 2)[-1] if alias.count("/") >= 2 else alias
                plan.modify_fields.append((path, operation.get("value")))
    if machine_type == VM_TYPE:
        plan.checks += linked_reads(machine)
    return plan


def apply_to_machine(machine: dict[str, Any], plan: Plan) -> None:
    """Write the plan's property changes into ``machine`` (a copy the caller stores back)."""
    props = machine.setdefault("properties", {})
    for path, value in plan.modify_fields:
        target = props
        keys = path.split(".")
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        target[keys[-1]] = value
    if plan.patch_settings:
        key = os_config_key(machine, None)
        settings = props.setdefault("osProfile", {}).setdefault(key, {}).setdefault("patchSettings", {})
        settings["patchMode"] = plan.patch_settings["patchMode"]
        settings.setdefault("automaticByPlatformSettings", {}).update(
            plan.patch_settings["automaticByPlatformSettings"]
        )
