"""What a scheduled maintenance run would do now: the emulator's own model of AUM's scheduler.

Tests call `run_schedule` to check that a fix reaches its goal (the machine is patched by its
schedule), not just that the fields changed. The rules are read independently from the
articles, not shared with the bot:

* the run covers machines with a static assignment that exists (a machine that moved away
  from its assignment's ``resourceId`` is simply not in the run) and those a dynamic scope
  selects now;
* an Azure VM needs patchMode AutomaticByPlatform and bypassPlatformSafetyChecksOnUserSchedule
  true, or it fails with "prerequisites not met" (prerequsite-for-schedule-patching.md);
* a machine that is not running (VM) or not connected (Arc) is not patched
  (ShutdownOrUnresponsive).

Each covered machine gets an ``applyupdates`` record, as Resource Graph shows them.
"""

from __future__ import annotations

import uuid
from typing import Any

from remediator.emulator.maintenance_common import (
    APPLY_UPDATE_TYPE,
    ASSIGNMENT_TYPE,
    MACHINE_TYPES,
    is_dynamic_scope,
)
from remediator.emulator.maintenance_runs import dynamic_scope_members
from remediator.emulator.shapes import power_state_code
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_type_of

VM_TYPE = "microsoft.compute/virtualmachines"


def machines_under(state: EmulatorState, configuration_id: str) -> list[dict[str, Any]]:
    """Every machine the configuration's assignments cover right now, each once."""
    found: dict[str, dict[str, Any]] = {}
    for assignment in state.store.of_type(ASSIGNMENT_TYPE):
        properties = assignment.get("properties") or {}
        if str(properties.get("maintenanceConfigurationId", "")).lower() != configuration_id.lower():
            continue
        target = str(properties.get("resourceId") or "")
        if is_dynamic_scope(target):
            for machine in dynamic_scope_members(state, assignment):
                found[str(machine["id"]).lower()] = machine
            continue
        assigned = state.store.get_live(target)
        if assigned is not None and resource_type_of(target).lower() in MACHINE_TYPES:
            found[target.lower()] = assigned
    return list(found.values())


def why_not_patched(machine: dict[str, Any]) -> tuple[str, str] | None:
    """(error code, message) when the scheduler would not patch the machine, else None."""
    properties = machine.get("properties") or {}
    if str(machine.get("type", "")).lower() != VM_TYPE:
        if str(properties.get("status", "")).lower() != "connected":
            return "ShutdownOrUnresponsive", "The Arc-enabled server is not connected."
        return None
    if power_state_code(machine) != "PowerState/running":
        return "ShutdownOrUnresponsive", "The virtual machine is not running."
    os_profile = properties.get("osProfile") or {}
    config = os_profile.get("windowsConfiguration") or os_profile.get("linuxConfiguration") or {}
    settings = config.get("patchSettings") or {}
    bypass = (settings.get("automaticByPlatformSettings") or {}).get("bypassPlatformSafetyChecksOnUserSchedule")
    if settings.get("patchMode") != "AutomaticByPlatform" or bypass is not True:
        return "PrerequisitesNotMet", "The prerequisites for schedule patching are not met."
    return None


def run_schedule(state: EmulatorState, configuration_id: str) -> list[dict[str, Any]]:
    """Run the schedule now: one ``applyupdates`` record per covered machine, stored and returned."""
    config = state.store.get_live(configuration_id)
    if config is None:
        raise KeyError(configuration_id)
    correlation = str(uuid.uuid4())
    now = state.now_iso()
    records = []
    with state.lock:
        for machine in machines_under(state, configuration_id):
            failure = why_not_patched(machine)
            properties: dict[str, Any] = {
                "maintenanceConfigurationId": config["id"],
                "maintenanceScope": (config.get("properties") or {}).get("maintenanceScope", "InGuestPatch"),
                "resourceId": machine["id"],
                "correlationId": correlation,
                "status": "Failed" if failure else "Completed",
                "startDateTime": now,
                "endDateTime": now,
            }
            if failure:
                properties["error"] = {"code": failure[0], "message": failure[1]}
            record = {
                "id": f"{machine['id']}/providers/{APPLY_UPDATE_TYPE}/{correlation}",
                "name": correlation,
                "type": APPLY_UPDATE_TYPE,
                "properties": properties,
            }
            state.store.put(record)
            records.append(record)
    return records
