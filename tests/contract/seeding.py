"""An emulator estate holding what one spec example shows, derived from the example itself.

``family_seeders.estate_for(example)`` gathers, from the example's request and its success responses:

* every scope the request path and the bodies name (subscriptions, resource groups,
  management groups above the example's subscriptions, parent resources);
* the resources a read, list, delete or action response shows (a create's own resource is not
  seeded: the request creates it);
* what those resources reference, as small stand-ins of the right type (``REFERENCES``): the
  policy assignment a remediation names (assigning a built-in ``modify`` definition so the
  remediation is valid), the role definition and principal of a role assignment, the
  maintenance configuration of a configuration assignment, ...;

then lets the operation family's seeder (``family_seeders.FAMILIES``, keyed by the
``Namespace/type`` the operation addresses) add what only that family has: policy state
records, provider registration states, Resource Graph rows, a remediation in the state an
action needs. This module holds the generic part: ``Seed``, scopes, stand-ins, references.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
LOCATION = "eastus"
# A built-in AUM policy whose effect is `modify` (DESIGN.md 3.4; shared policy-definitions folder).
REMEDIABLE_DEFINITION = "/providers/Microsoft.Authorization/policyDefinitions/59efceea-0c96-497e-a4a1-4eb2290dac15"
MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
POLICY_SET_TYPE = "Microsoft.Authorization/policySetDefinitions"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID_KEYS = ("id", "policyAssignmentId", "policyDefinitionId", "policySetDefinitionId", "roleDefinitionId",
            "maintenanceConfigurationId", "resourceId", "remediatedResourceId", "scope")  # fmt: skip


@dataclass(frozen=True)
class Prelude:
    """A request sent before the example's own, for state only the API can make (it is not judged).

    ``until_done`` repeats it (a GET) until the resource's ``provisioningState`` is terminal.
    """

    method: str
    path: str
    body: Any = None
    until_done: bool = False


@dataclass
class Seed:
    """What the estate will hold; ids are compared case-insensitively, like ARM does."""

    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    policy_states: list[dict[str, Any]] = field(default_factory=list)
    knobs: dict[str, Any] = field(default_factory=dict)
    preludes: list[Prelude] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)  # lower-case ids of resources the example shows
    request_path: str = ""  # the path the example's own request addresses

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return self.subscriptions.setdefault(subscription_id.lower(), {"subscriptionId": subscription_id})

    def put(self, resource: Mapping[str, Any], *, replace: bool = True) -> None:
        """Add a resource (and the scopes above it); a stand-in (``replace=False``) never replaces
        a shown resource (``replace=True``: what the example itself shows)."""
        resource_id = str(resource["id"])
        self.ensure_scopes(resource_id)
        if replace or resource_id.lower() not in self.resources:
            self.resources[resource_id.lower()] = dict(resource)
        if replace:
            self.shown.add(resource_id.lower())

    def assign_initiatives(self, bodies: Iterable[Any]) -> None:
        """An assignment that a body names together with a ``policyDefinitionReferenceId`` assigns
        a policy set holding a member of that reference id (a remediable built-in definition).

        The remediations spec: ``policyDefinitionReferenceId`` is "required when the policy
        assignment being remediated assigns a policy set definition" and must name one of its
        members (remediation-structure.md, "Policy definition ID"); a direct assignment with a
        reference id is refused (InvalidCreateRemediationRequest). What the example shows is kept.
        """
        for assignment_id, initiative in initiative_references(bodies).items():
            assignment = self.resources.get(assignment_id)
            if assignment is None:
                continue
            props = assignment.setdefault("properties", {})
            set_id = str(props.get("policyDefinitionId") or "")
            if "/policysetdefinitions/" not in set_id.lower():
                if assignment_id in self.shown:
                    continue  # the example shows a direct assignment: not ours to change
                name = str(assignment.get("name") or assignment_id.rsplit("/", 1)[-1])
                set_id = (
                    initiative.set_id
                    or f"{definition_scope(assignment_id)}/providers/{POLICY_SET_TYPE}/contract-{name}"
                )
                props["policyDefinitionId"] = set_id
            if set_id.lower() in self.shown:
                continue
            self.put(self.resources.get(set_id.lower()) or _policy_set(set_id), replace=False)
            members = self.resources[set_id.lower()].setdefault("properties", {}).setdefault("policyDefinitions", [])
            known = {str(m.get("policyDefinitionReferenceId", "")).lower() for m in members}
            members += [
                {"policyDefinitionReferenceId": ref, "policyDefinitionId": REMEDIABLE_DEFINITION, "parameters": {}}
                for ref in sorted(initiative.references)
                if ref.lower() not in known
            ]

    def ensure_scopes(self, arm_id: str, own_namespace: str = "") -> None:
        """Every subscription, management group and parent resource above ``arm_id`` exists.

        Resources of ``own_namespace`` (the operation's provider: policy states, a remediation
        being acted on) are left to the family seeders.
        """
        for scope in scopes_above(arm_id):
            if own_namespace and resource_type(scope).lower().startswith(own_namespace.lower() + "/"):
                continue
            parts = [p for p in scope.split("/") if p]
            if len(parts) == 2 and parts[0].lower() == "subscriptions":
                if _GUID.match(parts[1]):
                    self.subscription(parts[1])
            elif scope.lower() not in self.resources:
                self.resources[scope.lower()] = stand_in(scope)

    def estate(self) -> dict[str, Any]:
        """The estate file. Management groups form one chain, the example's subscriptions at its foot:
        a group only a body names (where an assignment or definition sits) is above the group the
        request addresses, as what applies to a scope is assigned at or above it; the request's
        group is the lowest, and holds the subscriptions."""
        groups = [r for r in self.resources.values() if str(r.get("type", "")) == MANAGEMENT_GROUP_TYPE]
        addressed = [g for g in groups if (self.request_path.lower() + "/").startswith(str(g["id"]).lower() + "/")]
        chain = [g for g in groups if g not in addressed] + addressed
        for parent, child in pairwise(chain):
            parent.setdefault("properties", {})["children"] = [
                {"id": child["id"], "type": MANAGEMENT_GROUP_TYPE, "name": child["name"]}
            ]
        if chain:
            chain[-1].setdefault("properties", {})["children"] = [
                {"id": f"/subscriptions/{s['subscriptionId']}", "type": "/subscriptions", "name": s["subscriptionId"]}
                for s in self.subscriptions.values()
            ]
        estate: dict[str, Any] = {
            "tenantId": TENANT_ID,
            "subscriptions": list(self.subscriptions.values()),
            "resources": list(self.resources.values()),
            "policyStates": self.policy_states,
        }
        if self.knobs:
            estate["emulator"] = dict(self.knobs)
        return estate


def scopes_above(arm_id: str) -> Iterator[str]:
    """The subscription, resource group, management group and parent resources of an id (not itself)."""
    parts = [p for p in arm_id.split("/") if p]
    for end in _scope_ends(parts):
        if end < len(parts):
            yield "/" + "/".join(parts[:end])


def is_resource_id(arm_id: str) -> bool:
    """Whether ``arm_id`` names a resource (a group, or ``providers/Namespace/type/name...``)."""
    parts = [p for p in arm_id.split("/") if p]
    return len(parts) > 2 and len(parts) in _scope_ends(parts)


def _scope_ends(parts: list[str]) -> list[int]:
    index, found = 0, []
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        found.append(2)
        index = 2
        if len(parts) >= 4 and parts[2].lower() == "resourcegroups":
            found.append(4)
            index = 4
    while index + 3 < len(parts) and parts[index].lower() == "providers":
        index += 2  # providers/Namespace
        while index + 1 < len(parts) and parts[index].lower() != "providers":
            index += 2  # type/name
            found.append(index)
    return found


def stand_in(arm_id: str) -> dict[str, Any]:
    """A minimal resource of the type ``arm_id`` names (what ARM needs to find it)."""
    parts = [p for p in arm_id.split("/") if p]
    name = parts[-1]
    kind = resource_type(arm_id).lower()
    for suffix, make in REFERENCES.items():
        if kind.endswith(suffix):
            return make(arm_id, name)
    if kind == "microsoft.resources/resourcegroups":
        return {"id": arm_id, "name": name, "location": LOCATION}
    return {"id": arm_id, "name": name, "location": LOCATION, "properties": {}}


def resource_type(arm_id: str) -> str:
    """``Namespace/type[/child]`` of an ARM id (``Microsoft.Resources/resourceGroups`` for a group)."""
    parts = [p for p in arm_id.split("/") if p]
    last = max((i for i, p in enumerate(parts) if p.lower() == "providers"), default=-1)
    if last < 0 or last + 1 >= len(parts):
        return "Microsoft.Resources/resourceGroups" if len(parts) == 4 else "Microsoft.Resources/subscriptions"
    namespace, rest = parts[last + 1], parts[last + 2 :]
    return "/".join([namespace, *rest[0::2]])


def scope_of(arm_id: str) -> str:
    return arm_id[: arm_id.lower().rfind("/providers/")] or "/"


def definition_scope(arm_id: str) -> str:
    """Where a custom definition for something at ``arm_id`` can live: its management group or
    subscription (definitions are never saved at a resource group or below), else the tenant ("")."""
    parts = [p for p in arm_id.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return f"/subscriptions/{parts[1]}"
    if len(parts) >= 4 and [p.lower() for p in parts[:3]] == ["providers", "microsoft.management", "managementgroups"]:
        return "/" + "/".join(parts[:4])
    return ""


def _policy_assignment(arm_id: str, name: str) -> dict[str, Any]:
    principal = str(uuid.uuid5(uuid.NAMESPACE_URL, arm_id.lower()))
    return {
        "id": arm_id,
        "name": name,
        "location": LOCATION,
        "identity": {"type": "SystemAssigned", "principalId": principal, "tenantId": TENANT_ID},
        "properties": {"policyDefinitionId": REMEDIABLE_DEFINITION, "scope": scope_of(arm_id)},
    }


def _policy_definition(arm_id: str, name: str) -> dict[str, Any]:
    rule = {"if": {"field": "type", "equals": "Microsoft.Compute/virtualMachines"}, "then": {"effect": "audit"}}
    return {"id": arm_id, "name": name, "properties": {"policyType": "Custom", "mode": "All", "policyRule": rule}}


def _policy_set(arm_id: str) -> dict[str, Any]:
    name = arm_id.rstrip("/").rsplit("/", 1)[-1]
    return {"id": arm_id, "name": name, "type": POLICY_SET_TYPE,
            "properties": {"policyType": "Custom", "displayName": name, "policyDefinitions": []}}  # fmt: skip


def _role_definition(arm_id: str, name: str) -> dict[str, Any]:
    permissions = [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]
    props = {"roleName": f"role {name}", "type": "CustomRole", "permissions": permissions, "assignableScopes": ["/"]}
    return {"id": arm_id, "name": name, "properties": props}


def _maintenance_configuration(arm_id: str, name: str) -> dict[str, Any]:
    props = {
        "maintenanceScope": "InGuestPatch",
        "visibility": "Custom",
        "extensionProperties": {"InGuestPatchMode": "User"},
        "maintenanceWindow": {"startDateTime": "2025-01-01 00:00", "duration": "03:00", "timeZone": "UTC",
                              "recurEvery": "1Day"},
        "installPatches": {"rebootSetting": "IfRequired"},
    }  # fmt: skip
    return {"id": arm_id, "name": name, "location": LOCATION, "properties": props}


def _user_assigned_identity(arm_id: str, name: str) -> dict[str, Any]:
    principal = str(uuid.uuid5(uuid.NAMESPACE_URL, arm_id.lower()))
    props = {
        "principalId": principal,
        "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, principal)),
        "tenantId": TENANT_ID,
    }
    return {"id": arm_id, "name": name, "location": LOCATION, "properties": props}


def _management_group(arm_id: str, name: str) -> dict[str, Any]:
    return {"id": arm_id, "name": name, "type": MANAGEMENT_GROUP_TYPE,
            "properties": {"tenantId": TENANT_ID, "displayName": name, "children": []}}  # fmt: skip


REFERENCES: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "microsoft.authorization/policyassignments": _policy_assignment,
    "microsoft.authorization/policydefinitions": _policy_definition,
    "microsoft.authorization/roledefinitions": _role_definition,
    "microsoft.maintenance/maintenanceconfigurations": _maintenance_configuration,
    "microsoft.management/managementgroups": _management_group,
    "microsoft.managedidentity/userassignedidentities": _user_assigned_identity,
}


def arm_objects(body: Any) -> Iterator[dict[str, Any]]:
    """The ARM resources a response body shows: itself, or the items of its ``value``."""
    if isinstance(body, Mapping):
        if isinstance(body.get("id"), str) and is_resource_id(str(body["id"])):
            yield copy.deepcopy(dict(body))
        for item in body.get("value") or []:
            yield from arm_objects(item)


def referenced_ids(node: Any) -> Iterator[str]:
    """ARM ids a body names under the keys that hold references, or as keys of a map (ARM's
    ``identity.userAssignedIdentities`` is keyed by the identities' resource ids)."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(key, str) and is_resource_id(key):
                yield key
            if key in _ID_KEYS and isinstance(value, str) and is_resource_id(value):
                yield value
            else:
                yield from referenced_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from referenced_ids(item)


@dataclass
class Initiative:
    """What bodies show of the policy set an assignment assigns: its id (when shown) and members."""

    set_id: str = ""
    references: set[str] = field(default_factory=set)


def initiative_references(bodies: Iterable[Any]) -> dict[str, Initiative]:
    """Lower-case assignment id -> the ``policyDefinitionReferenceId``s (and ``policySetDefinitionId``)
    bodies name beside it (a remediation's properties, a policy state row)."""
    found: dict[str, Initiative] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            assignment, reference = node.get("policyAssignmentId"), node.get("policyDefinitionReferenceId")
            if isinstance(assignment, str) and is_resource_id(assignment) and isinstance(reference, str) and reference:
                initiative = found.setdefault(assignment.lower(), Initiative())
                initiative.references.add(reference)
                shown_set = node.get("policySetDefinitionId")
                if isinstance(shown_set, str) and "/policysetdefinitions/" in shown_set.lower():
                    initiative.set_id = initiative.set_id or shown_set
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for body in bodies:
        walk(body)
    return found


def principal_ids(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "principalId" and isinstance(value, str) and _GUID.match(value):
                yield value
            else:
                yield from principal_ids(value)
    elif isinstance(node, list):
        for item in node:
            yield from principal_ids(item)


def shown_identities(node: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(identity id, what the body shows of it) for each entry of a ``userAssignedIdentities`` map."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "userAssignedIdentities" and isinstance(value, Mapping):
                yield from ((str(k), v if isinstance(v, Mapping) else {}) for k, v in value.items())
            else:
                yield from shown_identities(value)
    elif isinstance(node, list):
        for item in node:
            yield from shown_identities(item)


def seed_identity(seed: Seed, identity_id: str, shown: Mapping[str, Any]) -> None:
    """A user-assigned identity an example names, with the principal and client ids it shows."""
    identity = seed.resources.get(identity_id.lower()) or stand_in(identity_id)
    props = identity.setdefault("properties", {})
    if shown.get("principalId") and not shown.get("clientId"):
        props["clientId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, str(shown["principalId"])))
    props.update({key: str(shown[key]) for key in ("principalId", "clientId") if shown.get(key)})
    seed.put(identity, replace=False)


def seed_principal(seed: Seed, principal_id: str) -> None:
    """The directory knows the principal the example names (a user-assigned identity holds it)."""
    if not seed.subscriptions:
        return
    for resource in seed.resources.values():
        if str((resource.get("properties") or {}).get("principalId", "")).lower() == principal_id.lower():
            return  # an identity the example names holds it already
    subscription = next(iter(seed.subscriptions.values()))["subscriptionId"]
    identity_id = (
        f"/subscriptions/{subscription}/resourceGroups/contract-identities/providers/{IDENTITY_TYPE}/p-{principal_id}"
    )
    seed_identity(seed, identity_id, {"principalId": principal_id})
