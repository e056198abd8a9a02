"""``register-provider``: register a resource provider in a subscription and wait until Registered.

``Change.resource_id`` is ``/subscriptions/{s}/providers/{Namespace}``; ``before``/``after`` are
``{"registrationState": ...}``. A provider already ``Registering`` is not registered again, only
waited for: a second POST would not speed it up and shows up as noise in the activity log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ArmOperationError, UsageError
from ..estate import parse_resource_id
from ..model import Change
from .actions import Action, register_action
from .arm_errors import arm_errors
from .retry import PROVIDER_REGISTERING, PollTimeout, poll_until
from .sdk_values import enum_text

if TYPE_CHECKING:
    from .clients import ArmClients

REGISTERED = "Registered"
REGISTERING = "Registering"


def provider_target(change: Change) -> tuple[str, str]:
    """(subscription id, namespace) of a ``/subscriptions/{s}/providers/{Namespace}`` id."""
    parts = parse_resource_id(change.resource_id)
    subscription = parts.get("subscription", "")
    namespace = parts.get("namespace", "")
    if not subscription or not namespace or "/" in parts.get("type", namespace):
        raise UsageError(
            f"register-provider needs /subscriptions/<id>/providers/<Namespace>, got {change.resource_id!r}"
        )
    return subscription, namespace


def provider_state(clients: ArmClients, subscription_id: str, namespace: str) -> str:
    with arm_errors():
        provider = clients.resources(subscription_id).providers.get(namespace)
    return enum_text(provider.registration_state)


def _read(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    subscription, namespace = provider_target(change)
    return {"registrationState": provider_state(clients, subscription, namespace)}


def _execute(clients: ArmClients, change: Change) -> str:
    subscription, namespace = provider_target(change)
    state = provider_state(clients, subscription, namespace)
    if state == REGISTERED:
        return f"{namespace} already Registered"
    registered_now = state != REGISTERING
    if registered_now:
        with arm_errors():
            state = enum_text(clients.resources(subscription).providers.register(namespace).registration_state)
    settings = clients.settings
    try:
        if state != REGISTERED:
            state = poll_until(
                PROVIDER_REGISTERING,
                settings,
                lambda: provider_state(clients, subscription, namespace),
                lambda value: value == REGISTERED,
                first_wait=True,
            )
    except PollTimeout as exc:
        raise ArmOperationError(
            "ProviderRegistrationTimeout",
            f"{namespace} still {exc.last} in subscription {subscription} after "
            f"{settings.provider_registration_timeout:g}s",
        ) from None
    verb = "registered" if registered_now else "was already Registering; waited until Registered"
    return f"{namespace} {verb} ({state})"


REGISTER_PROVIDER = register_action(
    Action(
        name="register-provider",
        read=_read,
        execute=_execute,
        permissions=("*/register/action",),
        description="Register a resource provider in a subscription and wait until Registered",
    )
)
