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
* policy sets for assignments named with a reference id (``seed_initiatives.py``) and the
  principals and user-assigned identities bodies name (``seed_principals.py``);

then lets the operation family's seeder (``family_seeders.FAMILIES``, keyed by the
``Namespace/type`` the operation addresses) add what only that family has: policy state
records, provider registration states, Resource Graph rows, a remediation in the state an
action needs. This module holds the generic part: ``Seed``, scopes, stand-ins, references.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
LOCATION = "eastus"
# A built-in AUM policy whose effect is `modify` (DESIGN.md 3.4; shared policy-definitions folder).
REMEDIABLE_DEFINITION = "/providers/Microsoft.Authorization/policyDefinitions/59efceea-0c96-497e-a4a1-4eb2290dac15"
MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
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
                if GUID.match(parts[1]):
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


def mappings_in(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every JSON object in ``node`` (itself included), outermost first."""
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from mappings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from mappings_in(item)


def referenced_ids(node: Any) -> Iterator[str]:
    """ARM ids a body names under the keys that hold references, or as keys of a map (ARM's
    ``identity.userAssignedIdentities`` is keyed by the identities' resource ids)."""
    for mapping in mappings_in(node):
        for key, value in mapping.items():
            if isinstance(key, str) and is_resource_id(key):
                yield key
            if key in _ID_KEYS and isinstance(value, str) and is_resource_id(value):
                yield value
