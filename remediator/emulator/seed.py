"""Turn a validated estate into the emulator's state."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from remediator.emulator.knobs import Knobs
from remediator.emulator.policy_consistency import install as install_policy_cycle
from remediator.emulator.providers import start_transition
from remediator.emulator.shapes import normalise_on_load
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of, split_id, subscription_of

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"
DEFAULT_LOCATION = "eastus"


def build_state(estate: dict[str, Any], knobs: Knobs | None = None, *, owned: bool = False) -> EmulatorState:
    """The state an estate describes. ``owned``: the estate's dicts become the store's own (no
    copy; the caller must not use the estate afterwards), which halves memory for big estates."""

    def take(value: Any) -> Any:
        return value if owned else copy.deepcopy(value)

    now = estate.get("now")
    clock = datetime.fromisoformat(str(now).replace("Z", "+00:00")) if now else None
    state = EmulatorState(
        tenant_id=str(estate["tenantId"]),
        # A "now" without an offset is UTC, like every time ARM writes.
        now=clock.replace(tzinfo=UTC) if clock and clock.tzinfo is None else clock,
        knobs=knobs or Knobs.from_estate(estate.get("emulator")),
    )
    for subscription in estate["subscriptions"]:
        state.add_subscription(take(subscription))
    for resource in estate.get("resources") or []:
        stored = state.store.put(take(resource))  # fills type and name from the id
        normalise_on_load(stored)
    _add_implied_resource_groups(state)
    state.policy_states = take(estate.get("policyStates") or [])
    install_policy_cycle(state)
    # A provider the estate shows mid-registration finishes like one the bot registered.
    for subscription in estate["subscriptions"]:
        for namespace, registration in (subscription.get("providers") or {}).items():
            if registration == "Registering":
                start_transition(state, subscription["subscriptionId"], namespace, "Registered")
            elif registration == "Unregistering":
                start_transition(state, subscription["subscriptionId"], namespace, "Unregistered")
    return state


def _add_implied_resource_groups(state: EmulatorState) -> None:
    """A resource names its resource group; ARM would not hold it without the group existing."""
    for resource in list(state.store):
        resource_id = str(resource["id"])
        group = resource_group_of(resource_id)
        if not group or len(split_id(resource_id)) <= 4:
            continue
        group_id = f"/subscriptions/{subscription_of(resource_id)}/resourceGroups/{group}"
        if not state.store.exists(group_id):
            state.store.put(
                {
                    "id": group_id,
                    "name": group,
                    "type": RESOURCE_GROUP_TYPE,
                    "location": resource.get("location") or DEFAULT_LOCATION,
                    "properties": {"provisioningState": "Succeeded"},
                }
            )
