"""Generic ARM resources by id: GET/HEAD/PUT/PATCH/DELETE, collection lists, resource groups.

Every path no more specific route claims ends up here. Behaviour follows ARM:
- 404 ``SubscriptionNotFound`` / ``ResourceGroupNotFound`` / ``ResourceNotFound`` in that order;
- PATCH merges (objects recursively, ``null`` removes, arrays and ``tags`` replace);
- writes to a namespace the subscription has not registered: 409 ``MissingSubscriptionRegistration``;
- writes and deletes of machines, extensions, disks, galleries and images are long-running
  (``Azure-AsyncOperation`` + ``Location``; ``provisioningState`` Updating until done);
- VMs serve ``properties.instanceView`` only with ``$expand=instanceView``;
- unknown fields are stored and served back untouched.
"""

from __future__ import annotations

import copy
from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.providers import require_subscription
from remediator.emulator.routing import (
    ROUTE_ANY_VERSION,
    ArmError,
    OperationOutcome,
    Request,
    Response,
    Route,
    long_running,
    paged,
    require_api_version,
    route,
)
from remediator.emulator.shapes import arm_view
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import (
    parent_of,
    resource_group_of,
    resource_type_of,
    split_id,
    subscription_of,
)

ROUTES: list[Route] = []

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"
LONG_RUNNING_TYPES = frozenset(
    {
        "microsoft.compute/virtualmachines",
        "microsoft.compute/virtualmachines/extensions",
        "microsoft.compute/disks",
        "microsoft.compute/galleries",
        "microsoft.compute/galleries/images",
        "microsoft.compute/images",
        "microsoft.hybridcompute/machines",
        "microsoft.hybridcompute/machines/extensions",
    }
)
# Properties the resource provider owns: a PUT that omits them does not erase them.
SERVER_OWNED_PROPERTIES = ("instanceView", "vmId", "timeCreated", "provisioningState", "extended")


def check_version(request: Request, resource_type: str) -> None:
    supported = api_versions.BY_TYPE.get(resource_type.lower())
    if supported:
        require_api_version(request, supported, what=resource_type)
        return
    version = request.api_version
    if version is None or not api_versions.WELL_FORMED.match(version):
        require_api_version(request, (), what=resource_type)


def check_scope(state: EmulatorState, resource_id: str) -> None:
    """The subscription and resource group the id lies in must exist (ARM's 404 order)."""
    subscription_id = subscription_of(resource_id)
    if subscription_id:
        require_subscription(state, subscription_id)
    group = resource_group_of(resource_id)
    if group and len(split_id(resource_id)) > 4:
        require_resource_group(state, subscription_id, group)


def require_resource_group(state: EmulatorState, subscription_id: str, group: str) -> None:
    if not state.store.exists(f"/subscriptions/{subscription_id}/resourceGroups/{group}"):
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


def not_found(resource_id: str) -> ArmError:
    resource_type = resource_type_of(resource_id)
    name = split_id(resource_id)[-1]
    if resource_type == RESOURCE_GROUP_TYPE:
        return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
    group = resource_group_of(resource_id)
    where = f" under resource group '{group}'" if group else ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}'{where} was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def is_collection(path: str) -> bool:
    """``.../providers/NS/type`` or ``.../type/name/childType``: an odd number of provider segments."""
    parts = [p.lower() for p in split_id(path)]
    if "providers" not in parts:
        return False
    last = len(parts) - 1 - parts[::-1].index("providers")
    return len(parts[last + 1 :]) >= 2 and len(parts[last + 1 :]) % 2 == 0


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """ARM PATCH: nested objects merge, null removes, arrays and ``tags`` replace."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict) and key != "tags":
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _check_registered(state: EmulatorState, resource_id: str, resource_type: str) -> None:
    subscription_id = subscription_of(resource_id)
    namespace = resource_type.split("/")[0]
    if not subscription_id or namespace.lower() == "microsoft.resources":
        return
    if state.provider_state(subscription_id, namespace) != "Registered":
        raise ArmError(
            409,
            "MissingSubscriptionRegistration",
            f"The subscription is not registered to use namespace '{namespace}'. "
            "See https://aka.ms/rps-not-found for how to register subscriptions.",
        )


def _served(request: Request, resource: dict[str, Any]) -> dict[str, Any]:
    expand = (request.q("$expand") or "").lower()
    return arm_view(resource, expand_instance_view="instanceview" in expand)


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/resourcegroups",
    api_versions=api_versions.RESOURCES,
    name="list_resource_groups",
)
def list_resource_groups(state: EmulatorState, request: Request) -> Response:
    subscription_id = request.params["subscriptionId"]
    require_subscription(state, subscription_id)
    groups = state.store.under(f"/subscriptions/{subscription_id}", RESOURCE_GROUP_TYPE)
    return paged(request, [arm_view(g) for g in groups], page_size=state.knobs.page_size)


@route(ROUTES, "GET", "{resourceId*}", api_versions=ROUTE_ANY_VERSION, name="get_resource")
def get_resource(state: EmulatorState, request: Request) -> Response:
    resource_id = request.params["resourceId"]
    if is_collection(resource_id):
        return _list_collection(state, request, resource_id)
    resource_type = resource_type_of(resource_id)
    check_version(request, resource_type)
    check_scope(state, resource_id)
    resource = state.store.get_live(resource_id)
    if resource is None:
        raise not_found(resource_id)
    return Response(200, _served(request, resource))


@route(ROUTES, "HEAD", "{resourceId*}", api_versions=ROUTE_ANY_VERSION, name="head_resource")
def head_resource(state: EmulatorState, request: Request) -> Response:
    resource_id = request.params["resourceId"]
    check_version(request, resource_type_of(resource_id))
    return Response(204 if state.store.exists(resource_id) else 404)


def _list_collection(state: EmulatorState, request: Request, path: str) -> Response:
    resource_type = resource_type_of(path + "/_")
    check_version(request, resource_type)
    parent = parent_of(path + "/_")
    check_scope(state, path + "/_")
    if len(split_id(parent)) > 4 and not state.store.exists(parent):
        raise not_found(parent)
    # Under a subscription a type lists across its resource groups; elsewhere direct children only.
    subscription_wide = len(split_id(parent)) == 2
    items = [
        _served(request, r)
        for r in state.store.under(parent, resource_type)
        if subscription_wide or len(split_id(str(r["id"]))) == len(split_id(path)) + 1
    ]
    return paged(request, items, page_size=state.knobs.page_size)


@route(ROUTES, "PUT", "{resourceId*}", api_versions=ROUTE_ANY_VERSION, name="put_resource")
def put_resource(state: EmulatorState, request: Request) -> Response:
    resource_id = request.params["resourceId"]
    resource_type = resource_type_of(resource_id)
    if not resource_type:
        raise ArmError(400, "InvalidResourceId", f"'{resource_id}' is not a valid resource id.")
    check_version(request, resource_type)
    check_scope(state, resource_id)
    _check_registered(state, resource_id, resource_type)
    body = copy.deepcopy(request.json_object())
    existing = state.store.get_live(resource_id)
    resource: dict[str, Any] = {**body, "id": existing["id"] if existing else resource_id}
    resource["name"] = split_id(resource_id)[-1]
    resource["type"] = existing["type"] if existing else resource_type
    properties = resource.setdefault("properties", {})
    if existing:
        for key in SERVER_OWNED_PROPERTIES:
            old = (existing.get("properties") or {}).get(key)
            if old is not None and key not in properties:
                properties[key] = old
    return _write(state, request, resource, created=existing is None)


@route(ROUTES, "PATCH", "{resourceId*}", api_versions=ROUTE_ANY_VERSION, name="patch_resource")
def patch_resource(state: EmulatorState, request: Request) -> Response:
    resource_id = request.params["resourceId"]
    resource_type = resource_type_of(resource_id)
    check_version(request, resource_type)
    check_scope(state, resource_id)
    existing = state.store.get(resource_id)
    if existing is None:
        raise not_found(resource_id)
    _check_registered(state, resource_id, resource_type)
    patch = {k: v for k, v in request.json_object().items() if k not in ("id", "name", "type")}
    merge_patch(existing, patch)
    return _write(state, request, existing, created=False)


def _write(state: EmulatorState, request: Request, resource: dict[str, Any], *, created: bool) -> Response:
    resource_type = str(resource["type"]).lower()
    if resource_type == RESOURCE_GROUP_TYPE.lower():
        resource.setdefault("properties", {})["provisioningState"] = "Succeeded"
        state.store.put(resource)
        return Response(201 if created else 200, arm_view(resource))
    if resource_type not in LONG_RUNNING_TYPES:
        resource.setdefault("properties", {})["provisioningState"] = "Succeeded"
        state.store.put(resource)
        return Response(201 if created else 200, _served(request, resource))
    resource.setdefault("properties", {})["provisioningState"] = "Creating" if created else "Updating"
    state.store.put(resource)
    resource_id = str(resource["id"])

    def complete() -> OperationOutcome:
        stored = state.store.get(resource_id)
        if stored is not None:
            stored.setdefault("properties", {})["provisioningState"] = "Succeeded"
            state.store.put(stored)
        return OperationOutcome(result=arm_view(stored) if stored is not None else None)

    status = 201 if created else 200
    return long_running(state, request, complete=complete, status=status, body=_served(request, resource))


@route(ROUTES, "DELETE", "{resourceId*}", api_versions=ROUTE_ANY_VERSION, name="delete_resource")
def delete_resource(state: EmulatorState, request: Request) -> Response:
    resource_id = request.params["resourceId"]
    resource_type = resource_type_of(resource_id)
    check_version(request, resource_type)
    check_scope(state, resource_id)
    existing = state.store.get_live(resource_id)
    if existing is None:
        return Response(204)
    long_running_delete = resource_type.lower() in LONG_RUNNING_TYPES or resource_type == RESOURCE_GROUP_TYPE
    if not long_running_delete:
        state.store.delete(resource_id)
        return Response(200)
    existing.setdefault("properties", {})["provisioningState"] = "Deleting"
    state.store.touch(resource_id)

    def complete() -> OperationOutcome:
        state.store.delete(resource_id)
        return OperationOutcome()

    return long_running(state, request, complete=complete, status=202)
