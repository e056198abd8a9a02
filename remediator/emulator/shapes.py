"""One stored resource, two shapes: what ARM returns and what Resource Graph returns.

The store keeps ARM's shape (a VM's power state in ``properties.instanceView.statuses``, as with
``$expand=instanceView``). ARM serves ``instanceView`` only when asked to expand it; Resource
Graph serves ``properties.extended.instanceView.powerState`` instead and never ``instanceView``.
An estate pasted from a Resource Graph export (only ``extended``) is normalised on load.
"""

from __future__ import annotations

import copy
from typing import Any

from remediator.emulator.store import resource_group_of, subscription_of

VM_TYPE = "microsoft.compute/virtualmachines"

POWER_STATE_DISPLAY = {
    "PowerState/running": "VM running",
    "PowerState/stopped": "VM stopped",
    "PowerState/deallocated": "VM deallocated",
    "PowerState/starting": "VM starting",
    "PowerState/stopping": "VM stopping",
    "PowerState/deallocating": "VM deallocating",
}

# Columns every Resource Graph `resources`-like row carries (null when the resource lacks one).
GRAPH_COLUMNS = (
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
)


def is_vm(resource: dict[str, Any]) -> bool:
    return str(resource.get("type", "")).lower() == VM_TYPE


def power_state_code(resource: dict[str, Any]) -> str | None:
    """``PowerState/...`` from the stored instanceView statuses, if any."""
    view = (resource.get("properties") or {}).get("instanceView") or {}
    for status in view.get("statuses") or []:
        code = str(status.get("code", ""))
        if code.startswith("PowerState/"):
            return code
    return None


def normalise_on_load(resource: dict[str, Any]) -> None:
    """Give a VM that only has Resource Graph's ``extended`` power state an ARM instanceView."""
    if not is_vm(resource):
        return
    properties = resource.setdefault("properties", {})
    extended = properties.pop("extended", None)
    if not isinstance(extended, dict) or power_state_code(resource) is not None:
        return
    code = (((extended.get("instanceView") or {}).get("powerState")) or {}).get("code")
    if code:
        properties["instanceView"] = {
            "statuses": [
                {"code": "ProvisioningState/succeeded", "level": "Info", "displayStatus": "Provisioning succeeded"},
                {"code": code, "level": "Info", "displayStatus": POWER_STATE_DISPLAY.get(code, code)},
            ]
        }


def arm_view(resource: dict[str, Any], *, expand_instance_view: bool = False) -> dict[str, Any]:
    """The resource as ARM GET returns it (a deep copy)."""
    out = copy.deepcopy(resource)
    properties = out.get("properties")
    if isinstance(properties, dict):
        properties.pop("extended", None)
        if not expand_instance_view:
            properties.pop("instanceView", None)
    return out


def graph_row(resource: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """The resource as a Resource Graph row (``type`` lowercased, resource group/subscription columns)."""
    resource_id = str(resource.get("id", ""))
    row: dict[str, Any] = {column: resource.get(column) for column in GRAPH_COLUMNS}
    row.update({key: value for key, value in resource.items() if key not in row})
    row["type"] = str(resource.get("type", "")).lower()
    row["tenantId"] = resource.get("tenantId") or tenant_id
    row["resourceGroup"] = resource.get("resourceGroup") or resource_group_of(resource_id)
    row["subscriptionId"] = resource.get("subscriptionId") or subscription_of(resource_id)
    row["kind"] = resource.get("kind") or ""
    row["location"] = resource.get("location") or ""
    row["managedBy"] = resource.get("managedBy") or ""
    row["tags"] = resource.get("tags") if resource.get("tags") is not None else {}
    row["identity"] = resource.get("identity") if resource.get("identity") is not None else {}
    if is_vm(resource):
        # A shallow copy: nested dicts stay shared with the store (rows are read-only).
        properties = dict(resource.get("properties") or {})
        code = power_state_code(resource)
        properties.pop("instanceView", None)
        if code:
            extended = dict(properties.get("extended") or {})
            properties["extended"] = extended
            extended["instanceView"] = {**(extended.get("instanceView") or {})}
            extended["instanceView"]["powerState"] = {
                "code": code,
                "displayStatus": POWER_STATE_DISPLAY.get(code, code),
                "level": "Info",
            }
        row["properties"] = properties
    return row
