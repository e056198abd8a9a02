"""Maintenance actions: configuration assignments, VM patch settings, VM start, window duration.

Each action's ``read`` returns exactly the keys of ``change.before`` (see `actions.py`):

* ``create-configuration-assignment`` / ``delete-configuration-assignment``: ``resource_id`` is
  the assignment id (``<scope>/providers/Microsoft.Maintenance/configurationAssignments/<name>``,
  the scope a machine, a child resource, a resource group or a subscription); ``before`` /
  ``after`` are ``{"maintenanceConfigurationId": id-or-None}``; create takes ``params.location``.
* ``patch-patch-settings``: ``resource_id`` is a VM; ``params.paths`` maps each ``before`` key to
  the JSON path it lives at, all under ``properties.osProfile.(windows|linux)Configuration``;
  the PATCH body carries those paths and nothing else (``params.api_version``: Compute's).
* ``start-machine``: ``before``/``after`` ``{"powerState": "deallocated"|"running"|...}``.
* ``set-maintenance-window-duration``: ``resource_id`` a maintenance configuration;
  ``{"duration": "hh:mm"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from azure.core.rest import HttpRequest
from azure.mgmt.maintenance.models import ConfigurationAssignment

from ..errors import ArmOperationError, UsageError
from ..estate import parse_resource_id
from ..model import Change
from .actions import Action, register_action
from .arm_errors import arm_errors
from .arm_resources import get_json, patch_json
from .retry import OPERATION_IN_PROGRESS, OPERATION_RUNNING, PollTimeout, call_with_retry, poll_until

if TYPE_CHECKING:
    from azure.mgmt.maintenance import MaintenanceManagementClient

    from .clients import ArmClients

ASSIGNMENTS = "/providers/microsoft.maintenance/configurationassignments/"
COMPUTE_API_VERSION = "2024-07-01"
PATCHABLE_PREFIXES = (
    "properties.osProfile.windowsConfiguration.patchSettings.",
    "properties.osProfile.linuxConfiguration.patchSettings.",
)
PATCHABLE_EXACT = ("properties.osProfile.windowsConfiguration.enableAutomaticUpdates",)


# --- configuration assignments ----------------------------------------------------------------


class AssignmentTarget:
    """Where an assignment id lives, and the SDK calls that address it."""

    def __init__(self, assignment_id: str) -> None:
        cut = assignment_id.lower().rfind(ASSIGNMENTS)
        if cut < 0:
            raise UsageError(f"not a configuration assignment id: {assignment_id!r}")
        self.scope = assignment_id[:cut]
        self.name = assignment_id[cut + len(ASSIGNMENTS) :]
        parts = [p for p in self.scope.split("/") if p]
        self.subscription = parts[1] if len(parts) > 1 else ""
        self.kind = "subscription" if len(parts) == 2 else "group" if len(parts) == 4 else "resource"
        self.group = parts[3] if len(parts) >= 4 else ""
        self.provider = parts[5] if len(parts) >= 8 else ""
        # .../providers/NS/type/name[/childType/childName]
        self.types = parts[6::2]
        self.names = parts[7::2]
        if self.kind == "resource" and len(self.types) not in (1, 2):
            raise UsageError(f"unsupported assignment scope {self.scope!r}")

    def client(self, clients: ArmClients) -> MaintenanceManagementClient:
        return clients.maintenance(self.subscription)

    def get(self, clients: ArmClients) -> ConfigurationAssignment:
        client = self.client(clients)
        if self.kind == "subscription":
            return client.configuration_assignments_for_subscriptions.get(self.name)
        if self.kind == "group":
            return client.configuration_assignments_for_resource_group.get(self.group, self.name)
        if len(self.types) == 1:
            return client.configuration_assignments.get(
                self.group, self.provider, self.types[0], self.names[0], self.name
            )
        return client.configuration_assignments.get_parent(
            self.group, self.provider, self.types[0], self.names[0], self.types[1], self.names[1], self.name
        )

    def put(self, clients: ArmClients, body: ConfigurationAssignment) -> ConfigurationAssignment:
        client = self.client(clients)
        if self.kind == "subscription":
            return client.configuration_assignments_for_subscriptions.create_or_update(self.name, body)
        if self.kind == "group":
            return client.configuration_assignments_for_resource_group.create_or_update(self.group, self.name, body)
        if len(self.types) == 1:
            return client.configuration_assignments.create_or_update(
                self.group, self.provider, self.types[0], self.names[0], self.name, body
            )
        return client.configuration_assignments.create_or_update_parent(
            self.group, self.provider, self.types[0], self.names[0], self.types[1], self.names[1], self.name, body
        )

    def delete(self, clients: ArmClients) -> None:
        client = self.client(clients)
        if self.kind == "subscription":
            client.configuration_assignments_for_subscriptions.delete(self.name)
        elif self.kind == "group":
            client.configuration_assignments_for_resource_group.delete(self.group, self.name)
        elif len(self.types) == 1:
            client.configuration_assignments.delete(self.group, self.provider, self.types[0], self.names[0], self.name)
        else:
            client.configuration_assignments.delete_parent(
                self.group, self.provider, self.types[0], self.names[0], self.types[1], self.names[1], self.name
            )


def assignment_absent(exc: ArmOperationError) -> bool:
    """Whether ARM's answer to a GET of a configuration assignment means "there is none".

    A 404, or the service's 400 for a name that does not exist on a machine holding another
    assignment ("Invalid configurationAssignmentName: <name>. Confirm api version.":
    Azure/azure-rest-api-specs issue 26565, which Microsoft will not fix).
    """
    return exc.not_found or (exc.status == 400 and "invalid configurationassignmentname" in exc.detail.lower())


def _assigned_configuration(clients: ArmClients, change: Change) -> str | None:
    target = AssignmentTarget(change.resource_id)
    try:
        with arm_errors():
            found = target.get(clients)
    except ArmOperationError as exc:
        if assignment_absent(exc):
            return None
        raise
    return found.maintenance_configuration_id


def _read_assignment(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    return {"maintenanceConfigurationId": _assigned_configuration(clients, change)}


def _create_assignment(clients: ArmClients, change: Change) -> str:
    target = AssignmentTarget(change.resource_id)
    config_id = str(change.after["maintenanceConfigurationId"])
    current = _assigned_configuration(clients, change)
    if current is not None and current.lower() == config_id.lower():
        return f"{target.name} already assigns {config_id}"
    body = ConfigurationAssignment(
        location=str(change.params.get("location") or "") or None,
        maintenance_configuration_id=config_id,
        resource_id=str(change.params.get("resourceId") or target.scope),
    )

    def put() -> ConfigurationAssignment:
        with arm_errors():
            return target.put(clients, body)

    call_with_retry(OPERATION_IN_PROGRESS, clients.settings, put)
    return f"assigned {config_id} to {target.scope}"


def _delete_assignment(clients: ArmClients, change: Change) -> str:
    target = AssignmentTarget(change.resource_id)

    def delete() -> None:
        try:
            with arm_errors():
                target.delete(clients)
        except ArmOperationError as exc:
            # Already gone (a rerun, or someone else removed it): the change is done.
            if not exc.not_found:
                raise

    call_with_retry(OPERATION_IN_PROGRESS, clients.settings, delete)
    return f"deleted assignment {target.name} from {target.scope}"


CREATE_ASSIGNMENT = register_action(
    Action(
        "create-configuration-assignment",
        _read_assignment,
        _create_assignment,
        permissions=("Microsoft.Maintenance/configurationAssignments/write",),
        description="Assign a maintenance configuration to a machine or scope",
    )
)
DELETE_ASSIGNMENT = register_action(
    Action(
        "delete-configuration-assignment",
        _read_assignment,
        _delete_assignment,
        permissions=("Microsoft.Maintenance/configurationAssignments/delete",),
        description="Remove a configuration assignment",
    )
)


# --- VM patch settings --------------------------------------------------------------------------


def _dig(obj: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(step)
    return obj


def _paths(change: Change) -> dict[str, str]:
    paths = dict(change.params.get("paths") or {})
    if set(paths) != set(change.before) or not paths:
        raise UsageError(f"{change.action}: params.paths must name exactly the fields of before")
    for path in paths.values():
        if path not in PATCHABLE_EXACT and not path.startswith(PATCHABLE_PREFIXES):
            raise UsageError(f"{change.action}: {path!r} is not a patch-settings field")
    return {k: str(v) for k, v in paths.items()}


def _get_json(clients: ArmClients, resource_id: str, api_version: str, expand: str = "") -> dict[str, Any]:
    subscription = parse_resource_id(resource_id).get("subscription", "")
    url = f"{resource_id}?api-version={api_version}" + (f"&$expand={expand}" if expand else "")
    with arm_errors():
        response = clients.resources(subscription).send_request(HttpRequest("GET", url))
        response.raise_for_status()
    body = response.json()
    return body if isinstance(body, dict) else {}


def _read_patch_settings(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    api_version = str(change.params.get("api_version") or COMPUTE_API_VERSION)
    vm = get_json(clients, change.resource_id, api_version) or {}
    return {key: _dig(vm, path) for key, path in _paths(change).items()}


def _patch_body(change: Change) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, path in _paths(change).items():
        node = body
        steps = path.split(".")
        for step in steps[:-1]:
            node = node.setdefault(step, {})
        node[steps[-1]] = change.after[key]
    return body


def _patch_settings(clients: ArmClients, change: Change) -> str:
    api_version = str(change.params.get("api_version") or COMPUTE_API_VERSION)
    patch_json(clients, change.resource_id, api_version, _patch_body(change))
    return "set " + ", ".join(f"{k}={change.after[k]}" for k in change.before)


PATCH_PATCH_SETTINGS = register_action(
    Action(
        "patch-patch-settings",
        _read_patch_settings,
        _patch_settings,
        permissions=("Microsoft.Compute/virtualMachines/write",),
        description="PATCH only a VM's patchSettings (patchMode, bypassPlatformSafetyChecksOnUserSchedule)",
    )
)


# --- VM start -----------------------------------------------------------------------------------


def power_state(vm: Mapping[str, Any]) -> str:
    statuses = _dig(vm, "properties.instanceView.statuses") or []
    for status in statuses:
        code = str(status.get("code", ""))
        if code.startswith("PowerState/"):
            return code.split("/", 1)[1]
    return ""


def _read_power(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    vm = _get_json(clients, change.resource_id, COMPUTE_API_VERSION, expand="instanceView")
    return {"powerState": power_state(vm)}


def _start(clients: ArmClients, change: Change) -> str:
    if _read_power(clients, change)["powerState"] == "running":
        return "already running"
    subscription = parse_resource_id(change.resource_id).get("subscription", "")
    client = clients.resources(subscription)

    def post() -> Any:
        with arm_errors():
            response = client.send_request(
                HttpRequest("POST", f"{change.resource_id}/start?api-version={COMPUTE_API_VERSION}")
            )
            response.raise_for_status()
        return response

    response = call_with_retry(OPERATION_IN_PROGRESS, clients.settings, post)
    status_url = response.headers.get("Azure-AsyncOperation") or response.headers.get("Location")
    if status_url:
        _wait_operation(clients, client, str(status_url))
    return "started"


def _wait_operation(clients: ArmClients, client: Any, status_url: str) -> None:
    def read() -> str:
        with arm_errors():
            response = client.send_request(HttpRequest("GET", status_url))
            response.raise_for_status()
        if response.status_code == 202:
            return "InProgress"
        body = response.json() if response.text() else {}
        return str((body or {}).get("status") or "Succeeded")

    try:
        final = poll_until(OPERATION_RUNNING, clients.settings, read, lambda s: s not in ("InProgress", "Running"))
    except PollTimeout:
        raise ArmOperationError("OperationTimeout", f"operation {status_url} still running") from None
    if final != "Succeeded":
        raise ArmOperationError("OperationFailed", f"operation ended {final}")


START_MACHINE = register_action(
    Action(
        "start-machine",
        _read_power,
        _start,
        permissions=("Microsoft.Compute/virtualMachines/start/action",),
        description="Start a deallocated or stopped VM",
    )
)


# --- maintenance window duration ------------------------------------------------------------------


def _configuration_parts(change: Change) -> tuple[str, str, str]:
    parts = parse_resource_id(change.resource_id)
    if parts.get("type", "").lower() != "microsoft.maintenance/maintenanceconfigurations":
        raise UsageError(f"{change.action} needs a maintenance configuration id, got {change.resource_id!r}")
    return parts["subscription"], parts["resource_group"], parts["name"]


def _read_duration(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    subscription, group, name = _configuration_parts(change)
    with arm_errors():
        config = clients.maintenance(subscription).maintenance_configurations.get(group, name)
    return {"duration": config.duration}


def _set_duration(clients: ArmClients, change: Change) -> str:
    subscription, group, name = _configuration_parts(change)
    operations = clients.maintenance(subscription).maintenance_configurations

    def update() -> None:
        with arm_errors():
            config = operations.get(group, name)
            config.duration = str(change.after["duration"])
            # The whole configuration goes back: PATCH then means the same whether the service
            # merges it or replaces the resource with it.
            operations.update(group, name, config)

    call_with_retry(OPERATION_IN_PROGRESS, clients.settings, update)
    return f"duration set to {change.after['duration']}"


SET_DURATION = register_action(
    Action(
        "set-maintenance-window-duration",
        _read_duration,
        _set_duration,
        permissions=("Microsoft.Maintenance/maintenanceConfigurations/write",),
        description="Change a maintenance configuration's window duration",
    )
)


# --- patch classifications --------------------------------------------------------------------


def _classifications(config: Any) -> dict[str, list[str] | None]:
    patches = config.install_patches
    windows = patches.windows_parameters if patches else None
    linux = patches.linux_parameters if patches else None
    return {
        "windows": list(windows.classifications_to_include or []) if windows else None,
        "linux": list(linux.classifications_to_include or []) if linux else None,
    }


def _read_classifications(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    subscription, group, name = _configuration_parts(change)
    with arm_errors():
        config = clients.maintenance(subscription).maintenance_configurations.get(group, name)
    return {k: v for k, v in _classifications(config).items() if k in change.after}


def _set_classifications(clients: ArmClients, change: Change) -> str:
    subscription, group, name = _configuration_parts(change)
    operations = clients.maintenance(subscription).maintenance_configurations

    def update() -> None:
        with arm_errors():
            config = operations.get(group, name)
            patches = config.install_patches
            if patches is None:
                raise ArmOperationError("InvalidState", f"{name} has no installPatches to correct")
            for os_name, params in (("windows", patches.windows_parameters), ("linux", patches.linux_parameters)):
                if os_name in change.after and params is not None:
                    params.classifications_to_include = list(change.after[os_name])
            operations.update(group, name, config)  # the whole configuration, as for the duration

    call_with_retry(OPERATION_IN_PROGRESS, clients.settings, update)
    return "classifications set to " + "; ".join(f"{k}: {', '.join(v)}" for k, v in change.after.items())


SET_CLASSIFICATIONS = register_action(
    Action(
        "set-patch-classifications",
        _read_classifications,
        _set_classifications,
        permissions=("Microsoft.Maintenance/maintenanceConfigurations/write",),
        description="Replace a maintenance configuration's patch classifications",
    )
)
