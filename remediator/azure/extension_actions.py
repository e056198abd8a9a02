"""Extension actions: remove an extension, trigger an on-demand patch assessment, allow extensions.

Each action's ``read`` returns exactly the keys of ``change.before`` (see `actions.py`):

* ``delete-extension``: ``resource_id`` is a VM or Arc machine extension; ``before`` /
  ``after`` are ``{"exists": bool, "provisioningState": str}`` / ``{"exists": False}``. A
  delete of an extension already gone is a no-op, not an error.
* ``assess-patches``: ``resource_id`` is a VM (``Microsoft.Compute/virtualMachines``) or Arc
  machine (``Microsoft.HybridCompute/machines``); ``params.extensions`` lists the
  ``{"publisher", "type"}`` the assessment must leave installed; ``before`` / ``after`` are
  ``{"updateExtensionsSucceeded": bool}`` — every listed extension present with
  provisioningState Succeeded. The POST ``.../assessPatches`` is long-running (202 +
  ``Azure-AsyncOperation``); the wait is bounded by ``settings.operation_timeout``. A failed
  operation raises `ArmOperationError` with the operation's error code; an assessment that ran but
  reports errors of the machine's update agent is a success of this action (the assessment-errors
  playbook reports those) and its detail says so.
* ``set-allow-extension-operations``: ``resource_id`` is a VM; ``{"allowExtensionOperations":
  bool}``. The PATCH body carries ``properties.osProfile.allowExtensionOperations`` and nothing
  else.

No compute SDK is used (DESIGN.md 4): the generic resource client's ``send_request`` and
``*_by_id`` operations with explicit api-versions are enough.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from azure.core.rest import HttpRequest, HttpResponse

from ..errors import ArmOperationError, UsageError
from ..estate import parse_resource_id
from ..model import Change
from .actions import Action, register_action
from .arm_errors import arm_errors
from .arm_resources import delete_resource, get_json, patch_json
from .retry import OPERATION_IN_PROGRESS, OPERATION_RUNNING, PollTimeout, call_with_retry, poll_until

if TYPE_CHECKING:
    from .clients import ArmClients

COMPUTE_API_VERSION = "2024-07-01"
HYBRID_COMPUTE_API_VERSION = "2024-07-10"
MACHINE_TYPES = ("microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines")
TERMINAL = ("succeeded", "failed", "canceled")
T = TypeVar("T")


def api_version_for(resource_id: str) -> str:
    namespace = parse_resource_id(resource_id).get("namespace", "").lower()
    if namespace == "microsoft.compute":
        return COMPUTE_API_VERSION
    if namespace == "microsoft.hybridcompute":
        return HYBRID_COMPUTE_API_VERSION
    raise UsageError(f"not a VM or Arc machine resource: {resource_id!r}")


def _machine(change: Change) -> str:
    if parse_resource_id(change.resource_id).get("type", "").lower() not in MACHINE_TYPES:
        raise UsageError(f"{change.action} needs a VM or Arc machine id, got {change.resource_id!r}")
    return change.resource_id


def _send(clients: ArmClients, resource_id: str, method: str, url: str) -> HttpResponse:
    """One raw ARM request through the client's pipeline (auth, retries); ARM errors raised mapped."""
    subscription = parse_resource_id(resource_id).get("subscription", "")
    with arm_errors():
        response = clients.resources(subscription).send_request(HttpRequest(method, url))
        response.raise_for_status()
    return response


def _json(response: HttpResponse) -> dict[str, Any]:
    if not response.content:
        return {}
    body = response.json()
    return body if isinstance(body, dict) else {}


# --- delete-extension -----------------------------------------------------------------------------


def _read_extension(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    found = get_json(clients, change.resource_id, api_version_for(change.resource_id))
    if found is None:
        return {"exists": False, "provisioningState": None}
    return {"exists": True, "provisioningState": (found.get("properties") or {}).get("provisioningState")}


def _delete_extension(clients: ArmClients, change: Change) -> str:
    name = parse_resource_id(change.resource_id).get("name", change.resource_id)
    version = api_version_for(change.resource_id)
    # ARM answers a DELETE of a missing resource with 204 like a real delete; look first, so the
    # outcome says which it was.
    if get_json(clients, change.resource_id, version) is None:
        return f"extension {name} was already gone"
    removed = delete_resource(clients, change.resource_id, version)
    return f"extension {name} removed" if removed else f"extension {name} was already gone"


DELETE_EXTENSION = register_action(
    Action(
        name="delete-extension",
        read=_read_extension,
        execute=_delete_extension,
        permissions=(
            "Microsoft.Compute/virtualMachines/extensions/delete",
            "Microsoft.HybridCompute/machines/extensions/delete",
        ),
        description="Remove a VM or Arc machine extension (waits for the delete to finish)",
    )
)


# --- assess-patches -------------------------------------------------------------------------------


def _wanted(change: Change) -> list[tuple[str, str]]:
    wanted = change.params.get("extensions")
    if not isinstance(wanted, list) or not wanted:
        raise UsageError("assess-patches needs params.extensions: [{publisher, type}, ...]")
    return [(str(w["publisher"]).lower(), str(w["type"]).lower()) for w in wanted]


def list_extensions(clients: ArmClients, machine_id: str) -> list[dict[str, Any]]:
    """Every extension of a VM or Arc machine (following nextLink)."""
    url: str | None = f"{machine_id}/extensions?api-version={api_version_for(machine_id)}"
    found: list[dict[str, Any]] = []
    while url:
        page = _json(_send(clients, machine_id, "GET", url))
        found.extend(item for item in page.get("value") or [] if isinstance(item, dict))
        url = page.get("nextLink")
    return found


def _read_assessable(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    states: dict[tuple[str, str], str] = {}
    for extension in list_extensions(clients, _machine(change)):
        props = extension.get("properties") or {}
        key = (str(props.get("publisher", "")).lower(), str(props.get("type", "")).lower())
        states[key] = str(props.get("provisioningState") or "")
    ok = all(states.get(kind, "").lower() == "succeeded" for kind in _wanted(change))
    return {"updateExtensionsSucceeded": ok}


def _poll(clients: ArmClients, machine_id: str, read: Callable[[], T], done: Callable[[T], bool]) -> T:
    """`poll_until` for the assessment's operation, its timeout reported as ARM-style error."""
    try:
        return poll_until(OPERATION_RUNNING, clients.settings, read, done, first_wait=True)
    except PollTimeout:
        raise ArmOperationError(
            "OperationTimedOut",
            f"assessPatches on {machine_id} still running after {clients.settings.operation_timeout:g}s",
        ) from None


def _wait(clients: ArmClients, machine_id: str, response: HttpResponse) -> dict[str, Any]:
    """The assessment's result body once its long-running operation has ended.

    Compute and HybridCompute answer 202 with ``Azure-AsyncOperation`` (the status to poll) and
    ``Location`` (202 while running, then the result); without the former, ``Location`` is polled.
    """
    if response.status_code == 200:
        return _json(response)
    status_url = response.headers.get("Azure-AsyncOperation")
    location = response.headers.get("Location")
    if status_url:
        final = _poll(
            clients,
            machine_id,
            lambda: _json(_send(clients, machine_id, "GET", status_url)),
            lambda body: str(body.get("status", "")).lower() in TERMINAL,
        )
        if str(final.get("status", "")).lower() != "succeeded":
            error = final.get("error") or {}
            raise ArmOperationError(
                str(error.get("code") or "AssessPatchesFailed"),
                str(error.get("message") or f"assessPatches ended {final.get('status')}"),
            )
        output = (final.get("properties") or {}).get("output")
        if isinstance(output, dict):
            return output
    if not location:
        return {}
    # A failed operation answers its Location with the error, which `_send` raises.
    done = _poll(
        clients,
        machine_id,
        lambda: _send(clients, machine_id, "GET", location),
        lambda answer: answer.status_code != 202,
    )
    return _json(done)


def _assess(clients: ArmClients, change: Change) -> str:
    machine_id = _machine(change)
    _wanted(change)  # a change that could never be verified is refused before anything is sent
    url = f"{machine_id}/assessPatches?api-version={api_version_for(machine_id)}"

    def start() -> HttpResponse:
        return _send(clients, machine_id, "POST", url)

    response = call_with_retry(OPERATION_IN_PROGRESS, clients.settings, start)
    result = _wait(clients, machine_id, response)
    status = str(result.get("status") or "finished")
    activity = result.get("assessmentActivityId") or ""
    detail = f"assessment {activity} {status}".replace("  ", " ")
    errors = result.get("error") or result.get("errorDetails")
    if errors:
        message = errors.get("message") if isinstance(errors, dict) else str(errors)
        detail += f"; the machine's update agent reported: {message} (see playbook assessment-errors)"
    return detail


ASSESS_PATCHES = register_action(
    Action(
        name="assess-patches",
        read=_read_assessable,
        execute=_assess,
        permissions=(
            "Microsoft.Compute/virtualMachines/assessPatches/action",
            "Microsoft.HybridCompute/machines/assessPatches/action",
        ),
        description="Trigger an on-demand patch assessment, which (re)installs the update extension",
    )
)


# --- set-allow-extension-operations ---------------------------------------------------------------


def _vm(change: Change) -> str:
    if parse_resource_id(change.resource_id).get("type", "").lower() != MACHINE_TYPES[0]:
        raise UsageError(f"set-allow-extension-operations needs a VM id, got {change.resource_id!r}")
    return change.resource_id


def _read_allow(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    vm = get_json(clients, _vm(change), COMPUTE_API_VERSION)
    os_profile = ((vm or {}).get("properties") or {}).get("osProfile") or {}
    return {"allowExtensionOperations": os_profile.get("allowExtensionOperations")}


def _set_allow(clients: ArmClients, change: Change) -> str:
    wanted = bool(change.after.get("allowExtensionOperations", True))
    body = {"properties": {"osProfile": {"allowExtensionOperations": wanted}}}
    patch_json(clients, _vm(change), COMPUTE_API_VERSION, body)
    return f"osProfile.allowExtensionOperations set to {str(wanted).lower()}"


SET_ALLOW_EXTENSION_OPERATIONS = register_action(
    Action(
        name="set-allow-extension-operations",
        read=_read_allow,
        execute=_set_allow,
        permissions=("Microsoft.Compute/virtualMachines/write",),
        description="PATCH a VM's osProfile.allowExtensionOperations (only that field)",
    )
)
