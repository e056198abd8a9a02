"""Policy sets for the assignments examples name with a ``policyDefinitionReferenceId``.

A remediation (or a policy state row) that names an assignment together with a reference id
implies that the assignment assigns a policy set holding a member of that id: the remediations
spec says ``policyDefinitionReferenceId`` is "required when the policy assignment being remediated
assigns a policy set definition", and it must name one of the set's members
(remediation-structure.md, "Policy definition ID"); the emulator refuses a reference id on a
direct assignment (InvalidCreateRemediationRequest), as Azure does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.contract.seeding import REMEDIABLE_DEFINITION, Seed, is_resource_id, mappings_in

POLICY_SET_TYPE = "Microsoft.Authorization/policySetDefinitions"


@dataclass
class Initiative:
    """What bodies show of the policy set an assignment assigns: its id (when shown) and members."""

    set_id: str = ""
    references: set[str] = field(default_factory=set)


def initiative_references(bodies: Iterable[Any]) -> dict[str, Initiative]:
    """Lower-case assignment id -> the ``policyDefinitionReferenceId``s (and ``policySetDefinitionId``)
    bodies name beside it (a remediation's properties, a policy state row)."""
    found: dict[str, Initiative] = {}
    for mapping in (m for body in bodies for m in mappings_in(body)):
        assignment, reference = mapping.get("policyAssignmentId"), mapping.get("policyDefinitionReferenceId")
        if isinstance(assignment, str) and is_resource_id(assignment) and isinstance(reference, str) and reference:
            initiative = found.setdefault(assignment.lower(), Initiative())
            initiative.references.add(reference)
            shown_set = mapping.get("policySetDefinitionId")
            if isinstance(shown_set, str) and "/policysetdefinitions/" in shown_set.lower():
                initiative.set_id = initiative.set_id or shown_set
    return found


def assign_initiatives(seed: Seed, bodies: Iterable[Any]) -> None:
    """An assignment that a body names together with a ``policyDefinitionReferenceId`` assigns
    a policy set holding a member of that reference id (a remediable built-in definition).

    The remediations spec: ``policyDefinitionReferenceId`` is "required when the policy
    assignment being remediated assigns a policy set definition" and must name one of its
    members (remediation-structure.md, "Policy definition ID"); a direct assignment with a
    reference id is refused (InvalidCreateRemediationRequest). What the example shows is kept.
    """
    for assignment_id, initiative in initiative_references(bodies).items():
        assignment = seed.resources.get(assignment_id)
        if assignment is None:
            continue
        props = assignment.setdefault("properties", {})
        set_id = str(props.get("policyDefinitionId") or "")
        if "/policysetdefinitions/" not in set_id.lower():
            if assignment_id in seed.shown:
                continue  # the example shows a direct assignment: not ours to change
            name = str(assignment.get("name") or assignment_id.rsplit("/", 1)[-1])
            set_id = (
                initiative.set_id or f"{definition_scope(assignment_id)}/providers/{POLICY_SET_TYPE}/contract-{name}"
            )
            props["policyDefinitionId"] = set_id
        if set_id.lower() in seed.shown:
            continue
        seed.put(seed.resources.get(set_id.lower()) or _policy_set(set_id), replace=False)
        members = seed.resources[set_id.lower()].setdefault("properties", {}).setdefault("policyDefinitions", [])
        known = {str(m.get("policyDefinitionReferenceId", "")).lower() for m in members}
        members += [
            {"policyDefinitionReferenceId": ref, "policyDefinitionId": REMEDIABLE_DEFINITION, "parameters": {}}
            for ref in sorted(initiative.references)
            if ref.lower() not in known
        ]


def definition_scope(arm_id: str) -> str:
    """Where a custom definition for something at ``arm_id`` can live: its management group or
    subscription (definitions are never saved at a resource group or below), else the tenant ("")."""
    parts = [p for p in arm_id.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return f"/subscriptions/{parts[1]}"
    if len(parts) >= 4 and [p.lower() for p in parts[:3]] == ["providers", "microsoft.management", "managementgroups"]:
        return "/" + "/".join(parts[:4])
    return ""


def _policy_set(arm_id: str) -> dict[str, Any]:
    name = arm_id.rstrip("/").rsplit("/", 1)[-1]
    return {"id": arm_id, "name": name, "type": POLICY_SET_TYPE,
            "properties": {"policyType": "Custom", "displayName": name, "policyDefinitions": []}}  # fmt: skip
