"""Microsoft.Maintenance (2023-04-01, what azure-mgmt-maintenance 2.1.0 sends) and the VM calls it leans on.

Shapes follow the 2023-04-01 spec and its examples:

* maintenance configurations: CRUD in a resource group, lists per subscription / resource group;
  an InGuestPatch window is validated (formats, 1h30..3h55 duration) as the service does;
* configuration assignments on a resource, on a child resource (``{scope*}`` covers both), at
  subscription and resource-group scope (dynamic scopes with ``filter``), the per-resource list
  and ``configurationAssignmentsWithinSubscription``; a static assignment needs its machine to
  exist, but deleting one whose machine has gone (moved or deleted) works, as the service keeps
  its own record;
* in ``maintenance_runs``: apply-updates on a resource (``.../applyUpdates/default``) and their
  lists, pending updates, public configurations, the operations list, and
  `dynamic_scope_members`, the emulator's own reading of a dynamic scope's filter (written
  independently of the bot's on purpose);
* in ``maintenance_vm``: the VM ``start`` action (long-running) and a VM PATCH guard for patch
  settings (Compute's own validation of AutomaticByPlatform), which the playbooks' fixes exercise.

Their routes join ``ROUTES`` here, so the app's one import of this module serves them all.
"""

from __future__ import annotations

import re
from typing import Any

from remediator.emulator import maintenance_runs, maintenance_vm
from remediator.emulator.arm_generic import check_scope, not_found
from remediator.emulator.maintenance_common import (
    ASSIGNMENT_TYPE,
    CONFIGURATION_TYPE,
    NS,
    VERSIONS,
    check_assignment_scope,
    invalid,
    is_dynamic_scope,
    require_subscription,
)
from remediator.emulator.maintenance_runs import dynamic_scope_members as dynamic_scope_members
from remediator.emulator.routing import ArmError, Request, Response, Route, route
from remediator.emulator.shapes import arm_view
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import split_id
from remediator.emulator.system_data import system_data

ROUTES: list[Route] = []
CONFIG_PATH = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Maintenance"


# --- maintenance configurations -----------------------------------------------------------------

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")
_HH_MM = re.compile(r"^(\d{2}):(\d{2})(:\d{2})?$")
_RECUR = re.compile(r"^\d*(Day|Days|Week|Weeks|Month|Months)(\s.*)?$", re.IGNORECASE)


def validate_window(properties: dict[str, Any]) -> None:
    """What the service refuses in an InGuestPatch window (formats; duration 1h30 to 3h55)."""
    if str(properties.get("maintenanceScope", "")).lower() != "inguestpatch":
        return
    window = properties.get("maintenanceWindow")
    if not isinstance(window, dict):
        raise invalid("maintenanceWindow is required for the InGuestPatch maintenance scope.")
    for key in ("startDateTime", "expirationDateTime"):
        if window.get(key) is not None and not _DATE_TIME.match(str(window[key])):
            raise invalid(f"{key} '{window[key]}' must be in 'yyyy-MM-dd HH:mm' format.")
    if not window.get("startDateTime"):
        raise invalid("startDateTime is required.")
    if not window.get("timeZone"):
        raise invalid("timeZone is required.")
    if not window.get("recurEvery") or not _RECUR.match(str(window["recurEvery"]).strip()):
        raise invalid(f"recurEvery '{window.get('recurEvery')}' is not a valid recurrence.")
    found = _HH_MM.match(str(window.get("duration") or ""))
    if not found:
        raise invalid(f"duration '{window.get('duration')}' must be in 'HH:mm' format.")
    minutes = int(found.group(1)) * 60 + int(found.group(2))
    if not 90 <= minutes <= 235:
        raise invalid("For InGuestPatch the duration must be between 01:30 and 03:55.")


def _configuration_id(request: Request) -> str:
    p = request.params
    return (
        f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
        f"/providers/{CONFIGURATION_TYPE}/{p['resourceName']}"
    )


@route(ROUTES, "GET", CONFIG_PATH + "/maintenanceConfigurations/{resourceName}", api_versions=VERSIONS)
def get_configuration(state: EmulatorState, request: Request) -> Response:
    resource_id = _configuration_id(request)
    check_scope(state, resource_id)
    found = state.store.get_live(resource_id)
    if found is None:
        raise not_found(resource_id)
    return Response(200, arm_view(found))


@route(ROUTES, "PUT", CONFIG_PATH + "/maintenanceConfigurations/{resourceName}", api_versions=VERSIONS)
def put_configuration(state: EmulatorState, request: Request) -> Response:
    resource_id = _configuration_id(request)
    check_scope(state, resource_id)
    body = request.json_object()
    if not body.get("location"):
        raise invalid("location is required.")
    properties = dict(body.get("properties") or {})
    properties.setdefault("namespace", NS)
    properties.setdefault("visibility", "Custom")
    validate_window(properties)
    existing = state.store.get_live(resource_id)
    resource = {
        **{k: v for k, v in body.items() if k not in ("id", "name", "type", "systemData")},
        "id": existing["id"] if existing else resource_id,
        "name": request.params["resourceName"],
        "type": CONFIGURATION_TYPE,
        "properties": properties,
        "systemData": system_data(state, existing, request.principal),
    }
    state.store.put(resource)
    return Response(200 if existing else 201, arm_view(resource))


@route(ROUTES, "PATCH", CONFIG_PATH + "/maintenanceConfigurations/{resourceName}", api_versions=VERSIONS)
def patch_configuration(state: EmulatorState, request: Request) -> Response:
    resource_id = _configuration_id(request)
    check_scope(state, resource_id)
    existing = state.store.get(resource_id)
    if existing is None:
        raise not_found(resource_id)
    body = request.json_object()
    merged = dict(existing)
    for key, value in body.items():
        if key == "properties" and isinstance(value, dict):
            properties = dict(existing.get("properties") or {})
            for name, inner in value.items():
                if name == "maintenanceWindow" and isinstance(inner, dict):
                    properties[name] = {**(properties.get(name) or {}), **inner}
                else:
                    properties[name] = inner
            merged["properties"] = properties
        elif key not in ("id", "name", "type", "systemData"):
            merged[key] = value
    validate_window(merged.get("properties") or {})
    merged["systemData"] = system_data(state, existing, request.principal)
    state.store.put(merged)
    return Response(200, arm_view(merged))


@route(ROUTES, "DELETE", CONFIG_PATH + "/maintenanceConfigurations/{resourceName}", api_versions=VERSIONS)
def delete_configuration(state: EmulatorState, request: Request) -> Response:
    resource_id = _configuration_id(request)
    check_scope(state, resource_id)
    removed = state.store.delete(resource_id)
    return Response(200, arm_view(removed)) if removed else Response(204)


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.Maintenance/maintenanceConfigurations",
    api_versions=VERSIONS,
)
def list_configurations(state: EmulatorState, request: Request) -> Response:
    require_subscription(state, request.params["subscriptionId"])
    found = state.store.under(f"/subscriptions/{request.params['subscriptionId']}", CONFIGURATION_TYPE)
    return Response(200, {"value": [arm_view(r) for r in found]})


@route(ROUTES, "GET", CONFIG_PATH + "/maintenanceConfigurations", api_versions=VERSIONS)
def list_configurations_in_group(state: EmulatorState, request: Request) -> Response:
    p = request.params
    group = f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
    check_scope(state, group + "/providers/x/y/z")
    return Response(200, {"value": [arm_view(r) for r in state.store.under(group, CONFIGURATION_TYPE)]})


# --- configuration assignments ------------------------------------------------------------------


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments/{name}", api_versions=VERSIONS)
def get_assignment(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    found = state.store.get_live(f"{scope}/providers/{ASSIGNMENT_TYPE}/{request.params['name']}")
    if found is None:
        if state.knobs.consistency == "azure" and _has_own_assignment(state, scope):
            # The service, not its spec: once a machine has any assignment, a GET of another name
            # answers 400 (Azure/azure-rest-api-specs issue 26565; Microsoft: "this response code is
            # incorrect, but we will not be prioritizing the fix").
            raise ArmError(
                400,
                "BadRequest",
                f"Invalid configurationAssignmentName: {request.params['name']}. Confirm api version.",
            )
        raise ArmError(404, "NotFound", f"Configuration assignment '{request.params['name']}' was not found.")
    return Response(200, arm_view(found))


def _has_own_assignment(state: EmulatorState, scope: str) -> bool:
    """Whether a resource (not a dynamic scope) holds a configuration assignment of its own."""
    if is_dynamic_scope(scope):
        return False
    prefix = f"{scope}/providers/{ASSIGNMENT_TYPE}/".lower()
    return any(str(r["id"]).lower().startswith(prefix) for r in state.store.under(scope, ASSIGNMENT_TYPE))


@route(ROUTES, "PUT", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments/{name}", api_versions=VERSIONS)
def put_assignment(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    body = request.json_object()
    properties = dict(body.get("properties") or {})
    config_id = str(properties.get("maintenanceConfigurationId") or "")
    if not config_id:
        raise invalid("maintenanceConfigurationId is required.")
    config = state.store.get_live(config_id)
    if config is None or str(config.get("type", "")).lower() != CONFIGURATION_TYPE.lower():
        raise ArmError(404, "NotFound", f"Maintenance configuration '{config_id}' was not found.")
    dynamic = is_dynamic_scope(scope)
    if dynamic:
        if str((config.get("properties") or {}).get("maintenanceScope", "")).lower() != "inguestpatch":
            raise invalid("Dynamic scopes are supported only for the InGuestPatch maintenance scope.")
    else:
        properties.pop("filter", None)
        if not state.store.exists(scope):
            raise not_found(scope)
    resource_id = f"{scope}/providers/{ASSIGNMENT_TYPE}/{request.params['name']}"
    existing = state.store.get_live(resource_id)
    properties["resourceId"] = scope
    resource: dict[str, Any] = {
        "id": existing["id"] if existing else resource_id,
        "name": request.params["name"],
        "type": ASSIGNMENT_TYPE,
        "properties": properties,
        "systemData": system_data(state, existing, request.principal),
    }
    if body.get("location"):
        resource["location"] = body["location"]
    state.store.put(resource)
    return Response(200, arm_view(resource))


@route(
    ROUTES, "DELETE", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments/{name}", api_versions=VERSIONS
)
def delete_assignment(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    removed = state.store.delete(f"{scope}/providers/{ASSIGNMENT_TYPE}/{request.params['name']}")
    if removed is None:
        return Response(204)
    return Response(200, {k: removed[k] for k in ("id", "name", "type")})


@route(
    ROUTES, "PATCH", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments/{name}", api_versions=VERSIONS
)
def patch_assignment(state: EmulatorState, request: Request) -> Response:
    """Subscription and resource-group scopes only (the spec has no PATCH for resource assignments)."""
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    if not is_dynamic_scope(scope):
        raise ArmError(405, "MethodNotAllowed", "PATCH is supported only for subscription and resource group scopes.")
    resource_id = f"{scope}/providers/{ASSIGNMENT_TYPE}/{request.params['name']}"
    existing = state.store.get(resource_id)
    if existing is None:
        raise ArmError(404, "NotFound", f"Configuration assignment '{request.params['name']}' was not found.")
    patch = dict(request.json_object().get("properties") or {})
    properties = {**(existing.get("properties") or {}), **patch, "resourceId": existing["properties"]["resourceId"]}
    config = state.store.get_live(str(properties.get("maintenanceConfigurationId") or ""))
    if config is None:
        raise ArmError(
            404,
            "NotFound",
            f"Maintenance configuration '{properties.get('maintenanceConfigurationId')}' was not found.",
        )
    existing["properties"] = properties
    existing["systemData"] = system_data(state, existing, request.principal)
    state.store.put(existing)
    return Response(200, arm_view(existing))


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments", api_versions=VERSIONS)
def list_assignments(state: EmulatorState, request: Request) -> Response:
    """Per resource: its own assignments. Per subscription: every assignment within it."""
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    if len(split_id(scope)) == 2:
        found = state.store.under(scope, ASSIGNMENT_TYPE)
    else:
        if not is_dynamic_scope(scope) and not state.store.exists(scope):
            raise not_found(scope)
        prefix = f"{scope}/providers/{ASSIGNMENT_TYPE}/".lower()
        found = [r for r in state.store.under(scope, ASSIGNMENT_TYPE) if str(r["id"]).lower().startswith(prefix)]
    return Response(200, {"value": [arm_view(r) for r in found]})


# The app imports this module only; the other maintenance route modules ride along.
ROUTES.extend(maintenance_runs.ROUTES)
ROUTES.extend(maintenance_vm.ROUTES)
