"""Microsoft.Maintenance beyond assignments: dynamic-scope members, apply-updates, pending updates, operations.

`dynamic_scope_members` is the emulator's own reading of a dynamic scope's filter, written
independently of the bot's on purpose, so the tests catch a wrong reading on either side.
"""

from __future__ import annotations

import uuid
from typing import Any

from remediator.emulator.arm_generic import not_found
from remediator.emulator.maintenance_common import (
    APPLY_UPDATE_TYPE,
    ASSIGNMENT_TYPE,
    MACHINE_TYPES,
    VERSIONS,
    check_assignment_scope,
    require_subscription,
)
from remediator.emulator.routing import ArmError, Request, Response, Route, route
from remediator.emulator.shapes import arm_view
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of
from remediator.emulator.system_data import system_data

ROUTES: list[Route] = []


def dynamic_scope_members(state: EmulatorState, assignment: dict[str, Any]) -> list[dict[str, Any]]:
    """The machines a subscription or resource-group assignment's ``filter`` selects right now.

    Empty filter lists select everything; locations compare without case or spaces; tags match
    exactly, a tag listed without values matches any value; ``filterOperator`` defaults to Any.
    """
    properties = assignment.get("properties") or {}
    scope = str(properties.get("resourceId") or "")
    flt = properties.get("filter") or {}
    kinds = {t.lower() for t in flt.get("resourceTypes") or []} or set(MACHINE_TYPES)
    groups = {g.lower() for g in flt.get("resourceGroups") or []}
    regions = {r.replace(" ", "").lower() for r in flt.get("locations") or []}
    systems = {o.lower() for o in flt.get("osTypes") or []}
    tag_settings = flt.get("tagSettings") or {}
    wanted_tags: dict[str, list[str]] = tag_settings.get("tags") or {}
    require_all = str(tag_settings.get("filterOperator") or "Any").lower() == "all"
    members = []
    for kind in kinds:
        for machine in state.store.under(scope, kind):
            if groups and resource_group_of(str(machine["id"])).lower() not in groups:
                continue
            if regions and str(machine.get("location", "")).replace(" ", "").lower() not in regions:
                continue
            if systems and _machine_os(machine) not in systems:
                continue
            if wanted_tags:
                tags = {k.lower(): v for k, v in (machine.get("tags") or {}).items()}
                matches = [
                    k.lower() in tags and (not vals or tags[k.lower()] in vals) for k, vals in wanted_tags.items()
                ]
                if not (all(matches) if require_all else any(matches)):
                    continue
            members.append(machine)
    return members


def _machine_os(machine: dict[str, Any]) -> str:
    properties = machine.get("properties") or {}
    os_disk = ((properties.get("storageProfile") or {}).get("osDisk") or {}).get("osType")
    value = str(os_disk or properties.get("osType") or "").lower()
    if not value:
        os_profile = properties.get("osProfile") or {}
        value = (
            "windows" if "windowsConfiguration" in os_profile else "linux" if "linuxConfiguration" in os_profile else ""
        )
    return value


# --- pending updates, public configurations, operations ---------------------------------------


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/updates", api_versions=VERSIONS)
def list_updates(state: EmulatorState, request: Request) -> Response:
    """No platform update is ever pending in the emulator."""
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    if not state.store.exists(scope):
        raise not_found(scope)
    return Response(200, {"value": []})


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations",
    api_versions=VERSIONS,
)
def list_public_configurations(state: EmulatorState, request: Request) -> Response:
    require_subscription(state, request.params["subscriptionId"])
    return Response(200, {"value": []})


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.Maintenance/publicMaintenanceConfigurations/{resourceName}",
    api_versions=VERSIONS,
)
def get_public_configuration(state: EmulatorState, request: Request) -> Response:
    require_subscription(state, request.params["subscriptionId"])
    raise ArmError(
        404, "NotFound", f"Public maintenance configuration '{request.params['resourceName']}' was not found."
    )


OPERATIONS = (
    ("Microsoft.Maintenance/maintenanceConfigurations/read", "Read maintenance configurations"),
    ("Microsoft.Maintenance/maintenanceConfigurations/write", "Create or update a maintenance configuration"),
    ("Microsoft.Maintenance/maintenanceConfigurations/delete", "Delete a maintenance configuration"),
    ("Microsoft.Maintenance/configurationAssignments/read", "Read configuration assignments"),
    ("Microsoft.Maintenance/configurationAssignments/write", "Create or update a configuration assignment"),
    ("Microsoft.Maintenance/configurationAssignments/delete", "Delete a configuration assignment"),
    ("Microsoft.Maintenance/applyUpdates/read", "Read apply updates"),
    ("Microsoft.Maintenance/applyUpdates/write", "Apply pending updates"),
    ("Microsoft.Maintenance/updates/read", "Read pending updates"),
)


@route(ROUTES, "GET", "/providers/Microsoft.Maintenance/operations", api_versions=VERSIONS)
def list_operations(state: EmulatorState, request: Request) -> Response:
    return Response(
        200,
        {
            "value": [
                {
                    "name": name,
                    "display": {
                        "provider": "Microsoft Maintenance",
                        "resource": name.split("/")[1],
                        "operation": description,
                        "description": description,
                    },
                    "origin": "user,system",
                    "isDataAction": False,
                }
                for name, description in OPERATIONS
            ]
        },
    )


# --- apply updates --------------------------------------------------------------------------


def _apply_update_view(record: dict[str, Any]) -> dict[str, Any]:
    """ARM's shape: Resource Graph's ``maintenanceresources`` rows also carry the configuration and
    scope of the run, the 2023-04-01 ApplyUpdate model does not."""
    out = arm_view(record)
    properties = out.get("properties") or {}
    out["properties"] = {k: v for k, v in properties.items() if k in ("status", "resourceId", "lastUpdateTime")}
    return out


@route(ROUTES, "PUT", "{scope*}/providers/Microsoft.Maintenance/applyUpdates/default", api_versions=VERSIONS)
def put_apply_update(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    if not state.store.exists(scope):
        raise not_found(scope)
    assigned = [
        r
        for r in state.store.under(scope, ASSIGNMENT_TYPE)
        if str(r["id"]).lower().startswith(f"{scope}/providers/".lower())
    ]
    name = str(uuid.uuid4())
    record: dict[str, Any] = {
        "id": f"{scope}/providers/{APPLY_UPDATE_TYPE}/{name}",
        "name": name,
        "type": APPLY_UPDATE_TYPE,
        "properties": {"resourceId": scope, "status": "Pending", "lastUpdateTime": state.now_iso()},
        "systemData": system_data(state, None, request.principal),
    }
    if assigned:
        record["properties"]["maintenanceConfigurationId"] = assigned[0]["properties"]["maintenanceConfigurationId"]
    state.store.put(record)
    return Response(200, _apply_update_view(record))


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/applyUpdates/{name}", api_versions=VERSIONS)
def get_apply_update(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    found = state.store.get_live(f"{scope}/providers/{APPLY_UPDATE_TYPE}/{request.params['name']}")
    if found is None:
        raise ArmError(404, "NotFound", f"Apply update '{request.params['name']}' was not found.")
    properties = found.setdefault("properties", {})
    if properties.get("status") == "Pending":
        properties["status"] = "Completed"  # one observation later the update has run
        properties["lastUpdateTime"] = state.now_iso()
        state.store.touch(str(found["id"]))
    return Response(200, _apply_update_view(found))


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/applyUpdates", api_versions=VERSIONS)
def list_apply_updates(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    check_assignment_scope(state, scope)
    return Response(200, {"value": [_apply_update_view(r) for r in state.store.under(scope, APPLY_UPDATE_TYPE)]})
