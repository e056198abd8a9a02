"""Microsoft.Maintenance (2023-04-01, what azure-mgmt-maintenance 2.1.0 sends) and the VM calls it leans on.

Shapes follow the 2023-04-01 spec and its examples:

* maintenance configurations: CRUD in a resource group, lists per subscription / resource group;
  an InGuestPatch window is validated (formats, 1h30..3h55 duration) as the service does;
* configuration assignments on a resource, on a child resource (``{scope*}`` covers both), at
  subscription and resource-group scope (dynamic scopes with ``filter``), the per-resource list
  and ``configurationAssignmentsWithinSubscription``; a static assignment needs its machine to
  exist, but deleting one whose machine has gone (moved or deleted) works, as the service keeps
  its own record;
* apply-updates on a resource (``.../applyUpdates/default``), then listed per resource group;
* the VM ``start`` action (long-running) and a VM PATCH guard for patch settings (Compute's own
  validation of AutomaticByPlatform), which the maintenance playbooks' fixes exercise.

`dynamic_scope_members` is the emulator's own reading of a dynamic scope's filter, written
independently of the bot's on purpose.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.arm_generic import check_scope, not_found, patch_resource
from remediator.emulator.routing import (
    ArmError,
    OperationOutcome,
    Request,
    Response,
    Route,
    long_running,
    route,
)
from remediator.emulator.shapes import POWER_STATE_DISPLAY, arm_view, power_state_code
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of, resource_type_of, split_id, subscription_of

ROUTES: list[Route] = []

VERSIONS = ("2023-10-01-preview", "2023-09-01-preview", "2023-04-01", "2022-11-01-preview", "2021-05-01")
NS = "Microsoft.Maintenance"
CONFIGURATION_TYPE = f"{NS}/maintenanceConfigurations"
ASSIGNMENT_TYPE = f"{NS}/configurationAssignments"
APPLY_UPDATE_TYPE = f"{NS}/applyUpdates"
MACHINE_TYPES = ("microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines")
CONFIG_PATH = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Maintenance"


def _require_subscription(state: EmulatorState, subscription_id: str) -> None:
    if state.subscription(subscription_id) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")


def _system_data(state: EmulatorState, existing: dict[str, Any] | None) -> dict[str, Any]:
    now = state.now_iso()
    created = (existing or {}).get("systemData") or {}
    return {
        "createdBy": created.get("createdBy", "emulator"),
        "createdByType": created.get("createdByType", "Application"),
        "createdAt": created.get("createdAt", now),
        "lastModifiedBy": "emulator",
        "lastModifiedByType": "Application",
        "lastModifiedAt": now,
    }


# --- maintenance configurations -----------------------------------------------------------------

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$")
_HH_MM = re.compile(r"^(\d{2}):(\d{2})(:\d{2})?$")
_RECUR = re.compile(r"^\d*(Day|Days|Week|Weeks|Month|Months)(\s.*)?$", re.IGNORECASE)


def _invalid(message: str) -> ArmError:
    return ArmError(400, "InvalidParameter", message)


def validate_window(properties: dict[str, Any]) -> None:
    """What the service refuses in an InGuestPatch window (formats; duration 1h30 to 3h55)."""
    if str(properties.get("maintenanceScope", "")).lower() != "inguestpatch":
        return
    window = properties.get("maintenanceWindow")
    if not isinstance(window, dict):
        raise _invalid("maintenanceWindow is required for the InGuestPatch maintenance scope.")
    for key in ("startDateTime", "expirationDateTime"):
        if window.get(key) is not None and not _DATE_TIME.match(str(window[key])):
            raise _invalid(f"{key} '{window[key]}' must be in 'yyyy-MM-dd HH:mm' format.")
    if not window.get("startDateTime"):
        raise _invalid("startDateTime is required.")
    if not window.get("timeZone"):
        raise _invalid("timeZone is required.")
    if not window.get("recurEvery") or not _RECUR.match(str(window["recurEvery"]).strip()):
        raise _invalid(f"recurEvery '{window.get('recurEvery')}' is not a valid recurrence.")
    found = _HH_MM.match(str(window.get("duration") or ""))
    if not found:
        raise _invalid(f"duration '{window.get('duration')}' must be in 'HH:mm' format.")
    minutes = int(found.group(1)) * 60 + int(found.group(2))
    if not 90 <= minutes <= 235:
        raise _invalid("For InGuestPatch the duration must be between 01:30 and 03:55.")


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
        raise _invalid("location is required.")
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
        "systemData": _system_data(state, existing),
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
    merged["systemData"] = _system_data(state, existing)
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
    _require_subscription(state, request.params["subscriptionId"])
    found = state.store.under(f"/subscriptions/{request.params['subscriptionId']}", CONFIGURATION_TYPE)
    return Response(200, {"value": [arm_view(r) for r in found]})


@route(ROUTES, "GET", CONFIG_PATH + "/maintenanceConfigurations", api_versions=VERSIONS)
def list_configurations_in_group(state: EmulatorState, request: Request) -> Response:
    p = request.params
    group = f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
    check_scope(state, group + "/providers/x/y/z")
    return Response(200, {"value": [arm_view(r) for r in state.store.under(group, CONFIGURATION_TYPE)]})


# --- configuration assignments ------------------------------------------------------------------


def _is_dynamic_scope(scope: str) -> bool:
    parts = [p.lower() for p in split_id(scope)]
    return (len(parts) == 2 and parts[0] == "subscriptions") or (
        len(parts) == 4 and parts[0] == "subscriptions" and parts[2] == "resourcegroups"
    )


def _check_assignment_scope(state: EmulatorState, scope: str) -> None:
    _require_subscription(state, subscription_of(scope))
    group = resource_group_of(scope)
    if group and not state.store.exists(f"/subscriptions/{subscription_of(scope)}/resourceGroups/{group}"):
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments/{name}", api_versions=VERSIONS)
def get_assignment(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    _check_assignment_scope(state, scope)
    found = state.store.get_live(f"{scope}/providers/{ASSIGNMENT_TYPE}/{request.params['name']}")
    if found is None:
        raise ArmError(404, "NotFound", f"Configuration assignment '{request.params['name']}' was not found.")
    return Response(200, arm_view(found))


@route(ROUTES, "PUT", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments/{name}", api_versions=VERSIONS)
def put_assignment(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    _check_assignment_scope(state, scope)
    body = request.json_object()
    properties = dict(body.get("properties") or {})
    config_id = str(properties.get("maintenanceConfigurationId") or "")
    if not config_id:
        raise _invalid("maintenanceConfigurationId is required.")
    config = state.store.get_live(config_id)
    if config is None or str(config.get("type", "")).lower() != CONFIGURATION_TYPE.lower():
        raise ArmError(404, "NotFound", f"Maintenance configuration '{config_id}' was not found.")
    dynamic = _is_dynamic_scope(scope)
    if dynamic:
        if str((config.get("properties") or {}).get("maintenanceScope", "")).lower() != "inguestpatch":
            raise _invalid("Dynamic scopes are supported only for the InGuestPatch maintenance scope.")
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
        "systemData": _system_data(state, existing),
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
    _check_assignment_scope(state, scope)
    removed = state.store.delete(f"{scope}/providers/{ASSIGNMENT_TYPE}/{request.params['name']}")
    if removed is None:
        return Response(204)
    return Response(200, {k: removed[k] for k in ("id", "name", "type")})


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/configurationAssignments", api_versions=VERSIONS)
def list_assignments(state: EmulatorState, request: Request) -> Response:
    """Per resource: its own assignments. Per subscription: every assignment within it."""
    scope = request.params["scope"]
    _check_assignment_scope(state, scope)
    if len(split_id(scope)) == 2:
        found = state.store.under(scope, ASSIGNMENT_TYPE)
    else:
        if not _is_dynamic_scope(scope) and not state.store.exists(scope):
            raise not_found(scope)
        prefix = f"{scope}/providers/{ASSIGNMENT_TYPE}/".lower()
        found = [r for r in state.store.under(scope, ASSIGNMENT_TYPE) if str(r["id"]).lower().startswith(prefix)]
    return Response(200, {"value": [arm_view(r) for r in found]})


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


# --- apply updates --------------------------------------------------------------------------


@route(ROUTES, "PUT", "{scope*}/providers/Microsoft.Maintenance/applyUpdates/default", api_versions=VERSIONS)
def put_apply_update(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    _check_assignment_scope(state, scope)
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
    }
    if assigned:
        record["properties"]["maintenanceConfigurationId"] = assigned[0]["properties"]["maintenanceConfigurationId"]
    state.store.put(record)
    return Response(200, arm_view(record))


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/applyUpdates/{name}", api_versions=VERSIONS)
def get_apply_update(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    _check_assignment_scope(state, scope)
    found = state.store.get_live(f"{scope}/providers/{APPLY_UPDATE_TYPE}/{request.params['name']}")
    if found is None:
        raise ArmError(404, "NotFound", f"Apply update '{request.params['name']}' was not found.")
    properties = found.setdefault("properties", {})
    if properties.get("status") == "Pending":
        properties["status"] = "Completed"  # one observation later the update has run
        properties["lastUpdateTime"] = state.now_iso()
        state.store.touch(str(found["id"]))
    return Response(200, arm_view(found))


@route(ROUTES, "GET", "{scope*}/providers/Microsoft.Maintenance/applyUpdates", api_versions=VERSIONS)
def list_apply_updates(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    _check_assignment_scope(state, scope)
    return Response(200, {"value": [arm_view(r) for r in state.store.under(scope, APPLY_UPDATE_TYPE)]})


# --- the VM calls the maintenance fixes make ----------------------------------------------------

VM_PATH = (
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
    "/providers/Microsoft.Compute/virtualMachines/{vmName}"
)


def _vm_id(request: Request) -> str:
    p = request.params
    return (
        f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
        f"/providers/Microsoft.Compute/virtualMachines/{p['vmName']}"
    )


def _set_power_state(vm: dict[str, Any], code: str) -> None:
    view = vm.setdefault("properties", {}).setdefault("instanceView", {})
    statuses = [s for s in view.get("statuses") or [] if not str(s.get("code", "")).startswith("PowerState/")]
    statuses.append({"code": code, "level": "Info", "displayStatus": POWER_STATE_DISPLAY.get(code, code)})
    view["statuses"] = statuses


@route(ROUTES, "POST", VM_PATH + "/start", api_versions=api_versions.COMPUTE)
def start_vm(state: EmulatorState, request: Request) -> Response:
    vm_id = _vm_id(request)
    check_scope(state, vm_id)
    vm = state.store.get_live(vm_id)
    if vm is None:
        raise not_found(vm_id)
    if power_state_code(vm) != "PowerState/running":
        _set_power_state(vm, "PowerState/starting")
        state.store.touch(vm_id)

    def complete() -> OperationOutcome:
        stored = state.store.get_live(vm_id)
        if stored is None:
            raise not_found(vm_id)
        _set_power_state(stored, "PowerState/running")
        state.store.touch(vm_id)
        return OperationOutcome()

    return long_running(state, request, complete=complete, status=202)


def _dig(obj: Any, *path: str) -> Any:
    for step in path:
        obj = obj.get(step) if isinstance(obj, dict) else None
    return obj


def _check_patch_settings(vm: dict[str, Any], body: dict[str, Any]) -> None:
    """Compute's validation of the patch settings a PATCH would leave (InvalidParameter)."""
    for key in ("windowsConfiguration", "linuxConfiguration"):
        patch = _dig(body, "properties", "osProfile", key)
        if patch is None:
            continue
        current = _dig(vm, "properties", "osProfile", key)
        if current is None:
            raise _invalid(f"Changing osProfile.{key} is not allowed: the VM has no {key}.")
        settings = {**(current.get("patchSettings") or {}), **(patch.get("patchSettings") or {})}
        platform = {
            **((current.get("patchSettings") or {}).get("automaticByPlatformSettings") or {}),
            **((patch.get("patchSettings") or {}).get("automaticByPlatformSettings") or {}),
        }
        mode = settings.get("patchMode")
        if platform.get("bypassPlatformSafetyChecksOnUserSchedule") and mode != "AutomaticByPlatform":
            raise _invalid(
                "bypassPlatformSafetyChecksOnUserSchedule can be set only when patchMode is AutomaticByPlatform."
            )
        if mode == "AutomaticByPlatform" and {**current, **patch}.get("provisionVMAgent") is False:
            raise _invalid("patchMode 'AutomaticByPlatform' requires provisionVMAgent to be true.")
        automatic = mode in ("AutomaticByPlatform", "AutomaticByOS")
        if key == "windowsConfiguration" and automatic and {**current, **patch}.get("enableAutomaticUpdates") is False:
            raise _invalid(f"patchMode '{mode}' requires enableAutomaticUpdates to be true.")
        if (
            key == "windowsConfiguration"
            and settings.get("enableHotpatching")
            and platform.get("bypassPlatformSafetyChecksOnUserSchedule")
        ):
            raise _invalid(
                "bypassPlatformSafetyChecksOnUserSchedule is not supported on a VM with hotpatching enabled."
            )


@route(ROUTES, "PATCH", VM_PATH, api_versions=api_versions.COMPUTE)
def patch_vm(state: EmulatorState, request: Request) -> Response:
    vm_id = _vm_id(request)
    check_scope(state, vm_id)
    vm = state.store.get_live(vm_id)
    if vm is None:
        raise not_found(vm_id)
    _check_patch_settings(vm, request.json_object())
    return patch_resource(
        state,
        Request(
            method=request.method,
            path=request.path,
            params={"resourceId": vm_id},
            query=request.query,
            body=request.body,
            headers=request.headers,
            base_url=request.base_url,
            principal=request.principal,
        ),
    )


def machine_type(resource_id: str) -> str:
    return resource_type_of(resource_id).lower()
