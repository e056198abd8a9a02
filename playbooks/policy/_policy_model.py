"""Policy assignments, definitions and effects, as the two policy playbooks need them.

Shared by ``policy_remediation`` and ``policy_identity_roles``. Everything here is pure: it reads
the `Estate` (assignments, custom definitions and set definitions as resources; built-in
definitions in ``Estate.definitions``) and never does I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from remediator import Estate, Resource

from .._shared import POLICY_ASSIGNMENT, PolicyAssignment

POLICY_DEFINITION = "microsoft.authorization/policydefinitions"
POLICY_SET_DEFINITION = "microsoft.authorization/policysetdefinitions"
REMEDIATION = "microsoft.policyinsights/remediations"
USER_ASSIGNED_IDENTITY = "microsoft.managedidentity/userassignedidentities"
ROLE_ASSIGNMENT = "microsoft.authorization/roleassignments"
ROLE_DEFINITION = "microsoft.authorization/roledefinitions"
MANAGEMENT_GROUP = "microsoft.management/managementgroups"
VIRTUAL_MACHINE = "microsoft.compute/virtualmachines"
ARC_MACHINE = "microsoft.hybridcompute/machines"
# What both policy playbooks read: the machines, the assignments with their definitions and
# identities, the tasks already there, and the management groups assignments sit at.
POLICY_INVENTORY_TYPES = frozenset(
    {
        VIRTUAL_MACHINE,
        ARC_MACHINE,
        POLICY_ASSIGNMENT,
        POLICY_DEFINITION,
        POLICY_SET_DEFINITION,
        REMEDIATION,
        USER_ASSIGNED_IDENTITY,
        MANAGEMENT_GROUP,
    }
)

_BUILTIN_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/"

# The Azure Update Manager built-ins (azure/policy-definitions), by definition name.
AUM_BUILTINS: Mapping[str, str] = MappingProxyType(
    {
        "59efceea-0c96-497e-a4a1-4eb2290dac15": "Configure periodic checking for missing system updates on "
        "azure virtual machines",
        "bfea026e-043f-4ff4-9d1b-bf301ca7ff46": "Configure periodic checking for missing system updates on "
        "azure Arc-enabled servers",
        "9905ca54-1471-49c6-8291-7582c04cd4d4": "Set prerequisite for Scheduling recurring updates on Azure "
        "virtual machines",
        "ba0df93e-e4ac-479a-aac2-134bbae39a1a": "Schedule recurring updates using Azure Update Manager",
        "bd876905-5b84-4f73-ab2d-2e7a7c4568d9": "Machines should be configured to periodically check for "
        "missing system updates",
    }
)
AUM_BUILTIN_IDS: frozenset[str] = frozenset(_BUILTIN_POLICY + name for name in AUM_BUILTINS)

# Only these effects have something for a remediation task to deploy or modify.
REMEDIABLE_EFFECTS = frozenset({"deployifnotexists", "modify"})
RUNNING_STATES = frozenset({"accepted", "evaluating", "running"})
# A system-assigned identity lives as long as its assignment: a missing principalId is missing data.
UNKNOWN_PRINCIPAL = "system-assigned identity whose principalId the inventory did not return"

_PARAMETER_EXPR = re.compile(r"^\[\s*parameters\(\s*'([^']+)'\s*\)\s*\]$", re.IGNORECASE)


def last_segment(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def properties_of(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """ARM objects keep their fields under ``properties``; a bare definition body is accepted too."""
    if not obj:
        return {}
    props = obj.get("properties")
    return props if isinstance(props, Mapping) else obj


def is_aum_definition(definition_id: str, custom_ids: Iterable[str] = ()) -> bool:
    lowered = definition_id.lower()
    return lowered in {i.lower() for i in AUM_BUILTIN_IDS} or lowered in {c.lower() for c in custom_ids}


def lookup_definition(estate: Estate, definition_id: str) -> Mapping[str, Any] | None:
    """A policy (set) definition by id: built-ins from ``Estate.definitions``, custom ones as resources."""
    found = estate.definitions.get(definition_id.lower())
    if found is not None:
        return found
    resource = estate.get(definition_id)
    if resource is not None:
        return resource.raw or {"id": resource.id, "properties": dict(resource.properties)}
    return None


def resolve_parameter(value: Any, parameters: Mapping[str, Any], declared: Mapping[str, Any]) -> Any:
    """Resolve ``[parameters('x')]`` against assignment values, then the declared default.

    ``parameters`` holds ``{"x": {"value": ...}}`` (the assignment's shape); ``declared`` the
    definition's ``parameters`` block. Anything that is not a parameter reference is returned as is.
    """
    if not isinstance(value, str):
        return value
    match = _PARAMETER_EXPR.match(value.strip())
    if not match:
        return value
    name = match.group(1).lower()
    for key, given in parameters.items():
        if key.lower() == name and isinstance(given, Mapping) and "value" in given:
            return given["value"]
    for key, spec in declared.items():
        if key.lower() == name and isinstance(spec, Mapping):
            return spec.get("defaultValue")
    return None


@dataclass(frozen=True)
class Member:
    """One policy definition as an assignment applies it (directly, or as one initiative member)."""

    definition_id: str
    reference_id: str  # "" for a direct assignment
    definition: Mapping[str, Any] | None
    # The parameters the definition receives, resolved to ``{"name": {"value": ...}}``.
    parameters: Mapping[str, Any]

    @property
    def rule_then(self) -> Mapping[str, Any]:
        rule = properties_of(self.definition).get("policyRule") or {}
        then = rule.get("then") if isinstance(rule, Mapping) else None
        return then if isinstance(then, Mapping) else {}

    @property
    def declared_parameters(self) -> Mapping[str, Any]:
        declared = properties_of(self.definition).get("parameters")
        return declared if isinstance(declared, Mapping) else {}

    @property
    def effect(self) -> str:
        """The effect, lowercased, with a parameterised effect resolved; "" when unknown."""
        raw = resolve_parameter(self.rule_then.get("effect"), self.parameters, self.declared_parameters)
        return str(raw).lower() if raw else ""

    @property
    def remediable(self) -> bool:
        return self.effect in REMEDIABLE_EFFECTS

    @property
    def role_definition_ids(self) -> tuple[str, ...]:
        details = self.rule_then.get("details")
        roles = details.get("roleDefinitionIds") if isinstance(details, Mapping) else None
        return tuple(str(r) for r in roles) if isinstance(roles, list) else ()

    def parameter_value(self, name: str) -> Any:
        return resolve_parameter(f"[parameters('{name}')]", self.parameters, self.declared_parameters)

    def linked_parameter_ids(self) -> tuple[str, ...]:
        """Resource ids passed in parameters marked ``assignPermissions`` (the portal grants roles there)."""
        out: list[str] = []
        for name, spec in self.declared_parameters.items():
            meta = spec.get("metadata") if isinstance(spec, Mapping) else None
            if isinstance(meta, Mapping) and meta.get("assignPermissions") is True:
                value = self.parameter_value(name)
                if isinstance(value, str) and value.startswith("/"):
                    out.append(value)
        return tuple(out)


@dataclass(frozen=True)
class Assignment(PolicyAssignment):
    """An assignment with its definition resolved: members, effects, roles."""

    @property
    def is_initiative(self) -> bool:
        return "/policysetdefinitions/" in self.definition_id.lower()

    def members(self, estate: Estate) -> Iterator[Member]:
        definition = lookup_definition(estate, self.definition_id)
        if not self.is_initiative:
            yield Member(self.definition_id, "", definition, self.parameters)
            return
        if definition is None:
            # The initiative itself is not readable (e.g. defined at a management group above the
            # run): its members are known from the policy states, with their default parameters.
            yield from self._members_from_states(estate)
            return
        set_props = properties_of(definition)
        declared = set_props.get("parameters") if isinstance(set_props.get("parameters"), Mapping) else {}
        for ref in set_props.get("policyDefinitions") or ():
            if not isinstance(ref, Mapping):
                continue
            member_id = str(ref.get("policyDefinitionId") or "")
            passed = ref.get("parameters") if isinstance(ref.get("parameters"), Mapping) else {}
            resolved = {
                name: {"value": resolve_parameter(spec.get("value"), self.parameters, declared or {})}
                for name, spec in (passed or {}).items()
                if isinstance(spec, Mapping)
            }
            yield Member(
                member_id,
                str(ref.get("policyDefinitionReferenceId") or ""),
                lookup_definition(estate, member_id),
                resolved,
            )

    def _members_from_states(self, estate: Estate) -> Iterator[Member]:
        seen: set[str] = set()
        for state in estate.policy_states:
            ref = state.policy_definition_reference_id
            if state.policy_assignment_id.lower() != self.id.lower() or ref.lower() in seen:
                continue
            seen.add(ref.lower())
            definition_id = state.policy_definition_id
            yield Member(definition_id, ref, lookup_definition(estate, definition_id), {})

    def resolvable(self, estate: Estate) -> bool:
        """Whether the definition (or initiative) the assignment names is readable."""
        return lookup_definition(estate, self.definition_id) is not None

    def member(self, estate: Estate, definition_id: str, reference_id: str) -> Member | None:
        for member in self.members(estate):
            if reference_id and member.reference_id.lower() == reference_id.lower():
                return member
            if not reference_id and member.definition_id.lower() == definition_id.lower():
                return member
        return None


def assignments(estate: Estate) -> tuple[Assignment, ...]:
    return tuple(Assignment(r) for r in sorted(estate.of_type(POLICY_ASSIGNMENT), key=lambda r: r.key))


def identity_principals(estate: Estate, assignment: Assignment) -> tuple[tuple[str, str], ...]:
    """``(principalId, what)`` pairs of the assignment's identity; ``principalId`` "" if unknown.

    ``what`` names the identity for messages: "system-assigned identity" or the user-assigned
    identity's resource id.
    """
    identity = assignment.resource.identity or {}
    kind = str(identity.get("type") or "None").lower()
    out: list[tuple[str, str]] = []
    if "systemassigned" in kind:
        system_principal = str(identity.get("principalId") or "")
        out.append((system_principal, "system-assigned identity" if system_principal else UNKNOWN_PRINCIPAL))
    if "userassigned" in kind:
        users = identity.get("userAssignedIdentities")
        for uai_id, detail in users.items() if isinstance(users, Mapping) else ():
            principal = detail.get("principalId") if isinstance(detail, Mapping) else None
            resource = estate.get(uai_id)
            if resource is not None and resource.properties.get("principalId"):
                principal = resource.properties.get("principalId")
            elif resource is None and _read_subscription(estate, str(uai_id)):
                # The inventory read that subscription and the identity is not there: it was deleted.
                principal = ""
            out.append((str(principal or ""), str(uai_id)))
    return tuple(out)


def _read_subscription(estate: Estate, resource_id: str) -> bool:
    parts = resource_id.split("/")
    return len(parts) > 2 and parts[1].lower() == "subscriptions" and estate.subscription(parts[2]) is not None


def running_remediations(estate: Estate, assignment_id: str, reference_id: str) -> tuple[Resource, ...]:
    """Remediation tasks for this assignment and reference that are still Accepted/Evaluating/Running."""
    out = []
    for remediation in estate.of_type(REMEDIATION):
        props = remediation.properties
        if str(props.get("policyAssignmentId") or "").lower() != assignment_id.lower():
            continue
        if str(props.get("policyDefinitionReferenceId") or "").lower() != reference_id.lower():
            continue
        if str(props.get("provisioningState") or "").lower() in RUNNING_STATES:
            out.append(remediation)
    return tuple(sorted(out, key=lambda r: r.key))
