"""Management groups and their hierarchy, as ``azure-mgmt-managementgroups`` reads them.

Groups are resources in the store, shaped as ARM returns them with ``$expand=children``.
``get`` serves ``children`` only when expanded, and nested levels only with ``$recurse=true``;
``descendants`` flattens the tree.
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


def _parent_of(state: EmulatorState, name: str) -> dict[str, Any] | None:
    for group in state.store.of_type(MANAGEMENT_GROUP_TYPE):
        for child in (group.get("properties") or {}).get("children") or []:
            if split_id(str(child.get("id", "")))[-1:] == [name] or str(child.get("name", "")).lower() == name.lower():
                return group
    return None


@route(ROUTES, "GET", GROUP, api_versions=api_versions.MANAGEMENT_GROUPS, name="get_management_group")
def get_management_group(state: EmulatorState, request: Request) -> Response:
    group = copy.deepcopy(_group(state, request.params["groupId"]))
    properties = group.setdefault("properties", {})
    properties.setdefault("tenantId", state.tenant_id)
    properties.setdefault("displayName", group["name"])
    parent = _parent_of(state, str(group["name"]))
    details = properties.setdefault("details", {})
    if parent is not None:
        details.setdefault(
            "parent",
            {
                "id": parent["id"],
                "name": parent["name"],
                "displayName": (parent.get("properties") or {}).get("displayName"),
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
