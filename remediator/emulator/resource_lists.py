"""``GET /subscriptions/{s}/resources`` and ``.../resourceGroups/{rg}/resources`` (ResourceManagementClient
``resources.list`` / ``list_by_resource_group``): top-level resources, with the ``$filter`` forms
ARM documents for them that a bot would use: ``resourceType eq '...'``, ``name eq '...'``,
``location eq '...'``, ``tagName eq '...' [and tagValue eq '...']``, joined with ``and``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.arm_generic import require_resource_group
from remediator.emulator.providers import require_subscription
from remediator.emulator.routing import ArmError, Request, Response, Route, paged, route
from remediator.emulator.shapes import arm_view
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import split_id

ROUTES: list[Route] = []

_CLAUSE = re.compile(r"^\s*(resourceType|name|location|tagName|tagValue)\s+eq\s+'((?:[^']|'')*)'\s*$", re.IGNORECASE)
Predicate = Callable[[dict[str, Any]], bool]


def _predicates(text: str | None) -> list[Predicate]:
    if not text:
        return []
    clauses: dict[str, str] = {}
    for part in re.split(r"\s+and\s+", text, flags=re.IGNORECASE):
        found = _CLAUSE.match(part)
        if found is None:
            raise ArmError(400, "InvalidFilterInQueryString", f"The $filter '{text}' is not supported.")
        clauses[found.group(1).lower()] = found.group(2).replace("''", "'")
    tests: list[Predicate] = []
    for key, field in (("resourcetype", "type"), ("name", "name"), ("location", "location")):
        if key in clauses:
            wanted = clauses[key].lower()
            tests.append(lambda r, f=field, w=wanted: str(r.get(f, "")).lower() == w)  # type: ignore[misc]
    if "tagname" in clauses:
        tag, value = clauses["tagname"].lower(), clauses.get("tagvalue")
        tests.append(
            lambda r: any(
                k.lower() == tag and (value is None or str(v) == value) for k, v in (r.get("tags") or {}).items()
            )
        )
    return tests


def _top_level(resource: dict[str, Any]) -> bool:
    resource_type = str(resource.get("type", ""))
    return resource_type.count("/") == 1 and not resource_type.lower().startswith("microsoft.resources/")


def _list(state: EmulatorState, request: Request, scope: str) -> Response:
    tests = _predicates(request.filter)
    depth = len(split_id(scope))
    items = [
        arm_view(r)
        for r in state.store.under(scope)
        if _top_level(r) and (depth == 2 or len(split_id(str(r["id"]))) == depth + 4) and all(t(r) for t in tests)
    ]
    return paged(request, items, page_size=state.knobs.page_size)


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/resources",
    api_versions=api_versions.RESOURCES,
    name="list_resources",
)
def list_resources(state: EmulatorState, request: Request) -> Response:
    subscription_id = request.params["subscriptionId"]
    require_subscription(state, subscription_id)
    return _list(state, request, f"/subscriptions/{subscription_id}")


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/resources",
    api_versions=api_versions.RESOURCES,
    name="list_resources_in_group",
)
def list_resources_in_group(state: EmulatorState, request: Request) -> Response:
    subscription_id, group = request.params["subscriptionId"], request.params["resourceGroupName"]
    require_subscription(state, subscription_id)
    require_resource_group(state, subscription_id, group)
    return _list(state, request, f"/subscriptions/{subscription_id}/resourceGroups/{group}")
