"""The VM calls the maintenance fixes make: ``start`` (long-running) and Compute's patch-settings validation.

The PATCH route validates what the merged patch settings would be (as Compute does, with
``InvalidParameter``) and then hands over to the generic store's PATCH.
"""

from __future__ import annotations

from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.arm_generic import check_scope, not_found, patch_resource
from remediator.emulator.maintenance_common import invalid
from remediator.emulator.routing import OperationOutcome, Request, Response, Route, long_running, route
from remediator.emulator.shapes import POWER_STATE_DISPLAY, power_state_code
from remediator.emulator.state import EmulatorState
from remediator.emulator.vm_writes import refuse_concurrent_write, track

ROUTES: list[Route] = []

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
    refuse_concurrent_write(state, vm_id)
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

    return track(state, vm_id, long_running(state, request, complete=complete, status=202))


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
            raise invalid(f"Changing osProfile.{key} is not allowed: the VM has no {key}.")
        settings = {**(current.get("patchSettings") or {}), **(patch.get("patchSettings") or {})}
        platform = {
            **((current.get("patchSettings") or {}).get("automaticByPlatformSettings") or {}),
            **((patch.get("patchSettings") or {}).get("automaticByPlatformSettings") or {}),
        }
        mode = settings.get("patchMode")
        if platform.get("bypassPlatformSafetyChecksOnUserSchedule") and mode != "AutomaticByPlatform":
            raise invalid(
                "bypassPlatformSafetyChecksOnUserSchedule can be set only when patchMode is AutomaticByPlatform."
            )
        if mode == "AutomaticByPlatform" and {**current, **patch}.get("provisionVMAgent") is False:
            raise invalid("patchMode 'AutomaticByPlatform' requires provisionVMAgent to be true.")
        automatic = mode in ("AutomaticByPlatform", "AutomaticByOS")
        if key == "windowsConfiguration" and automatic and {**current, **patch}.get("enableAutomaticUpdates") is False:
            raise invalid(f"patchMode '{mode}' requires enableAutomaticUpdates to be true.")
        if (
            key == "windowsConfiguration"
            and settings.get("enableHotpatching")
            and platform.get("bypassPlatformSafetyChecksOnUserSchedule")
        ):
            raise invalid("bypassPlatformSafetyChecksOnUserSchedule is not supported on a VM with hotpatching enabled.")


@route(ROUTES, "PATCH", VM_PATH, api_versions=api_versions.COMPUTE)
def patch_vm(state: EmulatorState, request: Request) -> Response:
    vm_id = _vm_id(request)
    check_scope(state, vm_id)
    vm = state.store.get_live(vm_id)
    if vm is None:
        raise not_found(vm_id)
    refuse_concurrent_write(state, vm_id)
    _check_patch_settings(vm, request.json_object())
    response = patch_resource(
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
    return track(state, vm_id, response)
