"""Management groups and their hierarchy, as ``azure-mgmt-managementgroups`` reads them.

Groups are resources in the store, shaped as ARM returns them with ``$expand=children``.
``get`` serves ``children`` only when expanded, and nested levels only with ``$recurse=true``;
``descendants`` flattens the tree.

The hierarchy is read upwards too (`group_ancestors`, `subscription_ancestors`): Resource Graph
rows carry a container's ancestors, never its children. A group's parent is the group whose
``children`` name it, else its own ``properties.details.parent`` (an estate pasted from Resource
Graph); a group with neither sits under the Tenant Root Group, whose name is the tenant id
("Root management group for each directory", learn.microsoft.com/azure/governance/
management-groups/overview), which every hierarchy ends with whether the estate lists it or not.
"""

from __future__ import annotations

import copy
from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.routing import ArmError, Request, Response, Route, paged, route
from remediator.emulator.state import MANAGEMENT_GROUP_TYPE, EmulatorState
from remediator.emulator.store import split_id

ROUTES: list[Route] = []

GROUP = "/providers/Microsoft.Management/managementGroups/{groupId}"
SUBSCRIPTION_CHILD_TYPE = "/subscriptions"


def _group(state: EmulatorState, name: str) -> dict[str, Any]:
    group = state.management_group(name)
    if group is None:
        raise ArmError(404, "NotFound", f"'{name}' not found")
    return group


def _child(state: EmulatorState, child: dict[str, Any], depth: int) -> dict[str, Any]:
    """A child entry in ARM's shape; groups expand ``depth`` more levels from the store."""
    parts = split_id(str(child.get("id", "")))
    is_subscription = len(parts) == 2 and parts[0].lower() == "subscriptions"
    name = parts[-1] if parts else str(child.get("name", ""))
    if is_subscription:
        subscription = state.subscription(name) or {}
        return {
            "type": SUBSCRIPTION_CHILD_TYPE,
            "id": f"/subscriptions/{name}",
            "name": name,
            "displayName": child.get("displayName") or subscription.get("displayName", name),
        }
    stored = state.management_group(name)
    out: dict[str, Any] = {
        "type": MANAGEMENT_GROUP_TYPE,
        "id": f"/providers/{MANAGEMENT_GROUP_TYPE}/{name}",
        "name": name,
        "displayName": child.get("displayName") or ((stored or {}).get("properties") or {}).get("displayName", name),
    }
    if depth > 0:
        nested = ((stored or {}).get("properties") or {}).get("children") or child.get("children") or []
        out["children"] = [_child(state, c, depth - 1) for c in nested]
    return out


ROOT_DISPLAY_NAME = "Tenant Root Group"


def _names_child(child: dict[str, Any], name: str) -> bool:
    parts = split_id(str(child.get("id", "")))
    return (parts[-1] if parts else str(child.get("name", ""))).lower() == name.lower()


def _parent_of(state: EmulatorState, name: str) -> dict[str, Any] | None:
    for group in state.store.of_type(MANAGEMENT_GROUP_TYPE):
        for child in (group.get("properties") or {}).get("children") or []:
            if isinstance(child, dict) and _names_child(child, name):
                return group
    return None


def _parent_name(state: EmulatorState, name: str) -> str | None:
    """The parent group's name: from a parent's ``children``, the group's ``details.parent``, or the root."""
    if name.lower() == state.tenant_id.lower():
        return None
    parent = _parent_of(state, name)
    if parent is not None:
        return str(parent["name"])
    group = state.management_group(name) or {}
    declared = ((group.get("properties") or {}).get("details") or {}).get("parent") or {}
    parts = split_id(str(declared.get("id") or ""))
    return parts[-1] if parts else state.tenant_id


def group_ancestors(state: EmulatorState, name: str) -> list[str]:
    """Names of the groups above ``name``, its parent first, ending with the tenant root group."""
    out: list[str] = []
    cursor = _parent_name(state, name)
    while cursor is not None and cursor.lower() not in {n.lower() for n in out} and cursor.lower() != name.lower():
        out.append(cursor)
        cursor = _parent_name(state, cursor)
    return out


def subscription_ancestors(state: EmulatorState, subscription_id: str) -> list[str]:
    """Names of the groups above a subscription, its parent first (none when the estate has no groups)."""
    groups = state.store.of_type(MANAGEMENT_GROUP_TYPE)
    if not groups:
        return []
    for group in groups:
        for child in (group.get("properties") or {}).get("children") or []:
            if isinstance(child, dict) and _names_child(child, subscription_id):
                return [str(group["name"]), *group_ancestors(state, str(group["name"]))]
    # A subscription placed nowhere sits under the root ("new subscriptions are placed under the
    # root management group by default", same overview).
    return [state.tenant_id]


def display_name(state: EmulatorState, name: str) -> str:
    if name.lower() == state.tenant_id.lower() and state.management_group(name) is None:
        return ROOT_DISPLAY_NAME
    group = state.management_group(name) or {}
    return str((group.get("properties") or {}).get("displayName") or name)


def graph_properties(state: EmulatorState, group: dict[str, Any]) -> dict[str, Any]:
    """A group's ``properties`` as Resource Graph's ``resourcecontainers`` row carries them.

    The row has ``details.parent`` and ``details.managementGroupAncestorsChain`` (parent first)
    and never ``children``: Microsoft's samples read ``properties.details.managementGroupAncestorsChain``
    for a group and ``properties.managementGroupAncestorsChain`` for a subscription
    (learn.microsoft.com/azure/governance/management-groups/resource-graph-samples).
    """
    name = str(group.get("name", ""))
    properties = {k: v for k, v in (group.get("properties") or {}).items() if k != "children"}
    properties.setdefault("displayName", name)
    properties.setdefault("tenantId", state.tenant_id)
    details = dict(properties.get("details") or {})
    chain = group_ancestors(state, name)
    if chain:
        parent = chain[0]
        details["parent"] = {
            "id": f"/providers/{MANAGEMENT_GROUP_TYPE}/{parent}",
            "name": parent,
            "displayName": display_name(state, parent),
        }
    else:
        details.pop("parent", None)
    details["managementGroupAncestorsChain"] = ancestors_chain(state, chain)
    properties["details"] = details
    return properties


def ancestors_chain(state: EmulatorState, names: list[str]) -> list[dict[str, str]]:
    return [{"name": n, "displayName": display_name(state, n)} for n in names]


@route(ROUTES, "GET", GROUP, api_versions=api_versions.MANAGEMENT_GROUPS, name="get_management_group")
def get_management_group(state: EmulatorState, request: Request) -> Response:
    group = copy.deepcopy(_group(state, request.params["groupId"]))
    properties = group.setdefault("properties", {})
    properties.setdefault("tenantId", state.tenant_id)
    properties.setdefault("displayName", group["name"])
    parent = _parent_name(state, str(group["name"]))
    details = properties.setdefault("details", {})
    if parent is not None:
        details.setdefault(
            "parent",
            {
                "id": f"/providers/{MANAGEMENT_GROUP_TYPE}/{parent}",
                "name": parent,
                "displayName": display_name(state, parent),
            },
        )
    children = properties.pop("children", None) or []
    if "children" in (request.q("$expand") or "").lower():
        depth = 64 if (request.q("$recurse") or "").lower() == "true" else 0
        properties["children"] = [_child(state, child, depth) for child in children]
    return Response(200, group)


@route(
    ROUTES,
    "GET",
    "/providers/Microsoft.Management/managementGroups",
    api_versions=api_versions.MANAGEMENT_GROUPS,
    name="list_management_groups",
)
def list_management_groups(state: EmulatorState, request: Request) -> Response:
    infos = [
        {
            "id": group["id"],
            "type": MANAGEMENT_GROUP_TYPE,
            "name": group["name"],
            "properties": {
                "tenantId": state.tenant_id,
                "displayName": (group.get("properties") or {}).get("displayName", group["name"]),
            },
        }
        for group in state.store.of_type(MANAGEMENT_GROUP_TYPE)
    ]
    return paged(request, infos, page_size=state.knobs.page_size)


@route(
    ROUTES,
    "GET",
    GROUP + "/descendants",
    api_versions=api_versions.MANAGEMENT_GROUPS,
    name="management_group_descendants",
)
def management_group_descendants(state: EmulatorState, request: Request) -> Response:
    root = _group(state, request.params["groupId"])
    out: list[dict[str, Any]] = []

    def walk(group: dict[str, Any]) -> None:
        for child in (group.get("properties") or {}).get("children") or []:
            entry = _child(state, child, 0)
            out.append(
                {
                    "id": entry["id"],
                    "type": entry["type"],
                    "name": entry["name"],
                    "properties": {"displayName": entry["displayName"], "parent": {"id": group["id"]}},
                }
            )
            if entry["type"] == MANAGEMENT_GROUP_TYPE:
                nested = state.management_group(entry["name"])
                if nested is not None:
                    walk(nested)

    walk(root)
    return paged(request, out, page_size=state.knobs.page_size)
