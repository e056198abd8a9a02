"""What the Microsoft.Maintenance route modules share: api-versions, types, scope checks."""

from __future__ import annotations

from remediator.emulator.routing import ArmError
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of, split_id, subscription_of

VERSIONS = ("2023-10-01-preview", "2023-09-01-preview", "2023-04-01", "2022-11-01-preview", "2021-05-01")
NS = "Microsoft.Maintenance"
CONFIGURATION_TYPE = f"{NS}/maintenanceConfigurations"
ASSIGNMENT_TYPE = f"{NS}/configurationAssignments"
APPLY_UPDATE_TYPE = f"{NS}/applyUpdates"
MACHINE_TYPES = ("microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines")


def require_subscription(state: EmulatorState, subscription_id: str) -> None:
    if state.subscription(subscription_id) is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")


def invalid(message: str) -> ArmError:
    return ArmError(400, "InvalidParameter", message)


def is_dynamic_scope(scope: str) -> bool:
    parts = [p.lower() for p in split_id(scope)]
    return (len(parts) == 2 and parts[0] == "subscriptions") or (
        len(parts) == 4 and parts[0] == "subscriptions" and parts[2] == "resourcegroups"
    )


def check_assignment_scope(state: EmulatorState, scope: str) -> None:
    require_subscription(state, subscription_of(scope))
    group = resource_group_of(scope)
    if group and not state.store.exists(f"/subscriptions/{subscription_of(scope)}/resourceGroups/{group}"):
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found.")
