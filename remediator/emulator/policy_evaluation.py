"""A compliance scan of the Update Manager built-ins: what triggerEvaluation and
ReEvaluateCompliance remediations recompute.

The emulator's own reading of each built-in's condition, on the machine as the store holds it:

* periodic assessment (modify, 59efceea VMs / bfea026e Arc): ``patchSettings.assessmentMode``
  equals the assignment's ``assessmentMode`` (default AutomaticByPlatform);
* scheduling prerequisites (DINE, 9905ca54): ``patchMode`` AutomaticByPlatform and
  ``bypassPlatformSafetyChecksOnUserSchedule`` true;
* schedule (DINE, ba0df93e): a configuration assignment on the machine for the assignment's
  ``maintenanceConfigurationResourceId``;
* periodic assessment audit (bd876905): assessmentMode AutomaticByPlatform.

Records of other definitions keep their state (the emulator does not evaluate arbitrary policy),
except that one a remediation deployment succeeded for turns Compliant on its next evaluation.
When evaluations happen is ``policy_consistency``.
"""

from __future__ import annotations

from typing import Any

from remediator.emulator.graph_lag import record_changing, record_key
from remediator.emulator.policy_effects import (
    ARC_ASSESSMENT,
    PREREQUISITES,
    SCHEDULING,
    VM_ASSESSMENT,
    os_config_key,
    parameter,
)
from remediator.emulator.policy_model import assignment_member
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import split_id

AUDIT_ASSESSMENT = "bd876905-5b84-4f73-ab2d-2e7a7c4568d9"
EVALUATED = frozenset({VM_ASSESSMENT, ARC_ASSESSMENT, PREREQUISITES, SCHEDULING, AUDIT_ASSESSMENT})


def _patch_settings(machine: dict[str, Any], os_param: Any) -> dict[str, Any]:
    profile = (machine.get("properties") or {}).get("osProfile") or {}
    settings = (profile.get(os_config_key(machine, os_param)) or {}).get("patchSettings")
    return settings if isinstance(settings, dict) else {}


def _compliant(state: EmulatorState, record: dict[str, Any], guid: str) -> bool | None:
    machine = state.store.get_live(str(record.get("resourceId", "")))
    assignment = state.store.get_live(str(record.get("policyAssignmentId", "")))
    if machine is None or assignment is None:
        return None
    member = assignment_member(state, assignment, str(record.get("policyDefinitionReferenceId") or ""))
    if member is None:
        return None
    definition, parameters = member
    declared = (definition.get("properties") or {}).get("parameters") or {}
    if guid in (VM_ASSESSMENT, ARC_ASSESSMENT, AUDIT_ASSESSMENT):
        wanted = parameter(parameters, declared, "assessmentMode") or "AutomaticByPlatform"
        settings = _patch_settings(machine, parameter(parameters, declared, "osType"))
        return str(settings.get("assessmentMode") or "") == wanted
    if guid == PREREQUISITES:
        settings = _patch_settings(machine, None)
        bypass = (settings.get("automaticByPlatformSettings") or {}).get("bypassPlatformSafetyChecksOnUserSchedule")
        return settings.get("patchMode") == "AutomaticByPlatform" and bypass is True
    if guid == SCHEDULING:
        wanted = str(parameter(parameters, declared, "maintenanceConfigurationResourceId") or "").lower()
        assigned = state.store.under(str(machine["id"]), "Microsoft.Maintenance/configurationAssignments")
        return any(
            str((a.get("properties") or {}).get("maintenanceConfigurationId", "")).lower() == wanted for a in assigned
        )
    return None


def remediated(state: EmulatorState) -> set[str]:
    """Records (``graph_lag.record_key``) a remediation deployment succeeded for since their last evaluation."""
    found: set[str] = state.extras.setdefault("policy", {}).setdefault("remediated", set())
    return found


def evaluate(state: EmulatorState, records: list[dict[str, Any]]) -> int:
    """Recompute the given records in place; return how many changed state."""
    changed = 0
    done = remediated(state)
    for record in records:
        record_changing(state, record)
        definition_id = str(record.get("policyDefinitionId", ""))
        guid = split_id(definition_id)[-1].lower() if definition_id else ""
        verdict = _compliant(state, record, guid) if guid in EVALUATED else None
        if record_key(record) in done:
            done.discard(record_key(record))
            verdict = True if verdict is None else verdict
        if verdict is not None:
            new_state = "Compliant" if verdict else "NonCompliant"
            changed += int(record.get("complianceState") != new_state)
            record["complianceState"] = new_state
        record["timestamp"] = state.now_iso()
    state.policy_states_changed()
    return changed
