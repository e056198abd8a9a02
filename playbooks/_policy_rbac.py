"""Scopes and role coverage: does a principal already hold a role where a remediation needs it?

ARM role assignments are inherited downwards: management group -> subscription -> resource group
-> resource -> child resource. A held role covers a required one when it is the same role or its
permissions include every action of the required role (Owner covers everything, Contributor
covers Virtual Machine Contributor). Pure functions over the `Estate`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from remediator import Estate

from ._policy_model import MANAGEMENT_GROUP, ROLE_ASSIGNMENT, ROLE_DEFINITION, last_segment, properties_of

SUBSCRIPTION = "microsoft.resources/subscriptions"

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
VIRTUAL_MACHINE_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
# Roles that can grant roles: a bot must never hand these to a policy identity.
FORBIDDEN_ROLES = frozenset({OWNER, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR})
ROLE_NAMES: Mapping[str, str] = {
    OWNER: "Owner",
    USER_ACCESS_ADMINISTRATOR: "User Access Administrator",
    RBAC_ADMINISTRATOR: "Role Based Access Control Administrator",
    CONTRIBUTOR: "Contributor",
    VIRTUAL_MACHINE_CONTRIBUTOR: "Virtual Machine Contributor",
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "cf7c76d2-98a3-4358-a134-615aa78bf44d": "Compute Gallery Image Reader",
    "cd08ab90-6b14-449c-ad9a-8f8e549482c6": "Scheduled Patching Contributor",
    "cd570a14-e51a-42ad-bac8-bafd67325302": "Azure Connected Machine Resource Administrator",
}
# Resolved into Estate.definitions so coverage can compare permissions (RBAC Administrator is only
# ever refused, never compared, so it need not be read).
BUILTIN_ROLE_IDS: frozenset[str] = frozenset(
    f"/providers/Microsoft.Authorization/roleDefinitions/{guid}" for guid in ROLE_NAMES if guid != RBAC_ADMINISTRATOR
)

# Fixed namespace for role assignment names: uuid5(namespace, "scope|principal|role"), lowercased,
# so a re-run names the same grant the same way and ARM's RoleAssignmentExists means "done".
ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("6c1f3f0e-5b0e-4d0c-9a53-2f3c7a1d8e41")

LEVELS = ("resource", "resource_group", "subscription", "management_group")


def role_guid(role_definition_id: str) -> str:
    return last_segment(role_definition_id).lower()


def role_name(estate: Estate, guid: str) -> str:
    definition = role_definition(estate, guid)
    name = properties_of(definition).get("roleName") if definition else None
    return str(name) if name else ROLE_NAMES.get(guid, guid)


def role_assignment_name(scope: str, principal_id: str, guid: str) -> str:
    key = f"{scope.rstrip('/').lower()}|{principal_id.lower()}|{guid.lower()}"
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))


def role_definition(estate: Estate, guid: str) -> Mapping[str, Any] | None:
    for key, value in estate.definitions.items():
        if "/roledefinitions/" in key and key.endswith("/" + guid):
            return value
    for resource in estate.of_type(ROLE_DEFINITION):
        if resource.name.lower() == guid:
            return resource.raw or {"properties": dict(resource.properties)}
    return None


def _permission_lists(definition: Mapping[str, Any] | None) -> tuple[list[str], list[str]]:
    actions: list[str] = []
    not_actions: list[str] = []
    for block in properties_of(definition).get("permissions") or ():
        if isinstance(block, Mapping):
            actions += [str(a).lower() for a in block.get("actions") or ()]
            not_actions += [str(a).lower() for a in block.get("notActions") or ()]
    return actions, not_actions


def role_covers(estate: Estate, held: str, required: str) -> bool:
    """True when holding role ``held`` grants everything role ``required`` grants."""
    if held in (required, OWNER):
        return True
    held_actions, held_not = _permission_lists(role_definition(estate, held))
    required_actions, _ = _permission_lists(role_definition(estate, required))
    if not held_actions or not required_actions:
        return False
    return all(
        any(fnmatchcase(action, pattern) for pattern in held_actions)
        and not any(fnmatchcase(action, pattern) for pattern in held_not)
        for action in required_actions
    )


def scope_level(scope: str) -> str:
    parts = [p.lower() for p in scope.strip("/").split("/") if p]
    if not parts or (len(parts) >= 4 and parts[:3] == ["providers", "microsoft.management", "managementgroups"]):
        return "management_group"
    if parts[0] == "subscriptions" and len(parts) == 2:
        return "subscription"
    if parts[0] == "subscriptions" and len(parts) == 4 and parts[2] == "resourcegroups":
        return "resource_group"
    return "resource"


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def scope_at_level(resource_id: str, level: str) -> str:
    """The enclosing scope of ``resource_id`` at ``level`` (a resource stays itself)."""
    parts = [p for p in resource_id.strip("/").split("/") if p]
    if level == "subscription" and len(parts) >= 2:
        return "/" + "/".join(parts[:2])
    if level == "resource_group" and len(parts) >= 4 and parts[2].lower() == "resourcegroups":
        return "/" + "/".join(parts[:4])
    return resource_id


@dataclass(frozen=True)
class _Index:
    """What role checks look up again and again, built once per estate."""

    estate: Estate
    parents: dict[str, str]
    by_principal: dict[str, tuple[tuple[str, str], ...]]


# Detect asks thousands of coverage questions of one estate: index it once (a cache of a pure
# function of the estate, which it keeps alive so identity comparison stays valid).
_INDEXES: list[_Index] = []


def _index(estate: Estate) -> _Index:
    for index in _INDEXES:
        if index.estate is estate:
            return index
    by_principal: dict[str, list[tuple[str, str]]] = {}
    for assignment in estate.of_type(ROLE_ASSIGNMENT):
        props = assignment.properties
        scope = (
            str(props.get("scope") or "")
            or assignment.id.lower().split("/providers/microsoft.authorization/roleassignments/")[0]
        )
        by_principal.setdefault(str(props.get("principalId") or "").lower(), []).append(
            (scope.lower() or "/", role_guid(str(props.get("roleDefinitionId") or "")))
        )
    index = _Index(estate, _mg_parents(estate), {k: tuple(v) for k, v in by_principal.items()})
    _INDEXES[:] = [index]
    return index


def _group_id(name: str) -> str:
    return f"/providers/Microsoft.Management/managementGroups/{name}"


def _chain(parents: dict[str, str], child: str, chain: list[Any]) -> None:
    """Link ``child`` to the first group of an ancestors chain (parent first), and each group to the next."""
    names = [str(e.get("name")) for e in chain if isinstance(e, Mapping) and e.get("name")]
    for below, above in zip([child, *(_group_id(n).lower() for n in names)], names, strict=False):
        parents.setdefault(below, _group_id(above))


def _mg_parents(estate: Estate) -> dict[str, str]:
    """Lowercased child id (group or subscription) -> parent management group id.

    From Resource Graph's shapes: a subscription row's ``managementGroupAncestorsChain``, a group
    row's ``details.parent`` and ``details.managementGroupAncestorsChain`` (both parent first);
    and from ``children``, which the management groups API returns with ``$expand=children``.
    """
    parents: dict[str, str] = {}
    for group in estate.of_type(MANAGEMENT_GROUP):
        for child in group.properties.get("children") or ():
            if isinstance(child, Mapping) and child.get("id"):
                parents[str(child["id"]).lower()] = group.id
        details = group.properties.get("details")
        details = details if isinstance(details, Mapping) else {}
        parent = details.get("parent")
        if isinstance(parent, Mapping) and parent.get("id"):
            parents.setdefault(group.key, str(parent["id"]))
        if isinstance(chain := details.get("managementGroupAncestorsChain"), list):
            _chain(parents, group.key, chain)
    for subscription in estate.of_type(SUBSCRIPTION):
        if isinstance(chain := subscription.properties.get("managementGroupAncestorsChain"), list):
            _chain(parents, subscription.key, chain)
    return parents


def ancestors(estate: Estate, scope: str) -> tuple[str, ...]:
    """``scope`` and every scope above it, narrowest first, lowercased (management groups included)."""
    parts = [p for p in scope.strip("/").split("/") if p]
    out: list[str] = []
    # Resource-level prefixes: every even-length prefix that is a resource, group or subscription.
    for end in range(len(parts), 1, -1):
        prefix = "/" + "/".join(parts[:end])
        if end % 2 == 0 and not prefix.lower().endswith("/providers"):
            out.append(prefix.lower())
    if parts and parts[0].lower() == "providers":
        out = [scope.rstrip("/").lower()]
    parents = _index(estate).parents
    cursor = out[-1] if out else ""
    seen = set(out)
    while cursor in parents:
        cursor = parents[cursor].lower()
        if cursor in seen:
            break
        seen.add(cursor)
        out.append(cursor)
    out.append("/")
    return tuple(out)


def holdings(estate: Estate, principal_id: str) -> tuple[tuple[str, str], ...]:
    """``(scope, role guid)`` of every role assignment the principal holds."""
    return _index(estate).by_principal.get(principal_id.lower(), ())


def holds(estate: Estate, principal_id: str, guid: str, scope: str) -> bool:
    """Whether the principal holds ``guid`` (or a covering role) at ``scope`` or above it."""
    chain = set(ancestors(estate, scope))
    return any(
        held_scope in chain and role_covers(estate, held_guid, guid)
        for held_scope, held_guid in holdings(estate, principal_id)
    )


def missing(estate: Estate, principal_id: str, guids: Iterable[str], scope: str) -> tuple[str, ...]:
    return tuple(g for g in dict.fromkeys(guids) if not holds(estate, principal_id, g, scope))
