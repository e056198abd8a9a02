"""The emulator's reading of policy assignments: members, effects, identities, scopes.

Written independently of the playbooks' own reading (``playbooks/_policy_model.py``) on purpose:
the tests compare two readings of the same Azure rules.
"""

from __future__ import annotations

import re
from typing import Any

from remediator.emulator.arm_generic import check_scope
from remediator.emulator.routing import ArmError
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import split_id, subscription_of

_PARAMETER = re.compile(r"^\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]$", re.I)
MG_PREFIX = "/providers/microsoft.management/managementgroups/"


def _lookup(parameters: dict[str, Any], declared: dict[str, Any], name: str) -> Any:
    for key, given in parameters.items():
        if key.lower() == name.lower() and isinstance(given, dict) and "value" in given:
            return given["value"]
    for key, spec in declared.items():
        if key.lower() == name.lower() and isinstance(spec, dict):
            return spec.get("defaultValue")
    return None


def resolve(value: Any, parameters: dict[str, Any], declared: dict[str, Any]) -> Any:
    match = _PARAMETER.match(value.strip()) if isinstance(value, str) else None
    return _lookup(parameters, declared, match.group(1)) if match else value


def effect_of(definition: dict[str, Any], parameters: dict[str, Any]) -> str:
    props = definition.get("properties") or {}
    then = (props.get("policyRule") or {}).get("then") or {}
    effect = resolve(then.get("effect"), parameters, props.get("parameters") or {})
    return str(effect or "").lower()


def assignment_facts(state: EmulatorState, assignment_id: str, reference: str) -> tuple[str, str] | None:
    """(the assignment's scope, the member's effect in lowercase) as policy states show them
    (``policyAssignmentScope``, ``policyDefinitionAction``); None when the assignment is unknown."""
    assignment = state.store.get_live(assignment_id) if assignment_id else None
    if assignment is None:
        return None
    member = assignment_member(state, assignment, reference)
    scope = str((assignment.get("properties") or {}).get("scope") or "")
    return scope, effect_of(*member) if member else ""


def assignment_member(
    state: EmulatorState, assignment: dict[str, Any], reference: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(definition, parameters it receives) for a direct assignment or one initiative member."""
    props = assignment.get("properties") or {}
    definition_id = str(props.get("policyDefinitionId") or "")
    given = props.get("parameters") or {}
    if "/policysetdefinitions/" not in definition_id.lower():
        definition = state.policy_definition(definition_id)
        return (definition, given) if definition is not None and not reference else None
    initiative = state.store.get_live(definition_id)
    if initiative is None or not reference:
        return None
    declared = (initiative.get("properties") or {}).get("parameters") or {}
    for member in (initiative.get("properties") or {}).get("policyDefinitions") or []:
        if str(member.get("policyDefinitionReferenceId", "")).lower() != reference.lower():
            continue
        definition = state.policy_definition(str(member.get("policyDefinitionId", "")))
        if definition is None:
            return None
        passed = {
            name: {"value": resolve(spec.get("value"), given, declared)}
            for name, spec in (member.get("parameters") or {}).items()
            if isinstance(spec, dict)
        }
        return definition, passed
    return None


def assignment_principal(state: EmulatorState, assignment: dict[str, Any]) -> str:
    """The object id the assignment's remediations run as ("" when it has none or it was deleted)."""
    identity = assignment.get("identity") or {}
    kind = str(identity.get("type") or "").lower()
    if "systemassigned" in kind and identity.get("principalId"):
        return str(identity["principalId"])
    if "userassigned" in kind:
        for uai_id in identity.get("userAssignedIdentities") or {}:
            uai = state.store.get_live(str(uai_id))
            principal = ((uai or {}).get("properties") or {}).get("principalId")
            if principal:
                return str(principal)
    return ""


def in_scope(state: EmulatorState, inner: str, outer: str) -> bool:
    """Whether ``inner`` (a scope or resource id) lies at or under ``outer``."""
    a, b = inner.rstrip("/").lower(), outer.rstrip("/").lower()
    if not b or a == b or a.startswith(b + "/"):
        return True
    if b.startswith(MG_PREFIX):
        subscription = subscription_of(inner)
        group = split_id(outer)[-1]
        # A group below it: "child resources from where the policy is assigned" (remediate-resources.md).
        if a.startswith(MG_PREFIX):
            return split_id(inner)[3].lower() in {g.lower() for g in state.management_group_tree(group)}
        return bool(subscription) and subscription.lower() in {
            s.lower() for s in state.management_group_subscriptions(group)
        }
    return False


def require_scope(state: EmulatorState, scope: str) -> None:
    """404 for a management group, subscription, resource group or resource that does not exist."""
    if scope.lower().startswith(MG_PREFIX):
        if state.store.get_live(scope) is None:
            raise ArmError(404, "ManagementGroupNotFound", f"Management group '{split_id(scope)[-1]}' not found.")
        return
    check_scope(state, scope)
    if len(split_id(scope)) > 4 and not state.store.exists(scope):
        raise ArmError(404, "ResourceNotFound", f"The resource '{scope}' was not found.")
