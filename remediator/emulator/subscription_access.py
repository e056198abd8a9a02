"""What ARM answers before any resource provider sees a request under ``/subscriptions/{id}/...``.

ARM resolves the subscription first, so every route under it answers the same way:

- a subscription the tenant does not have (or one in state ``Deleted``, which allows no
  operations): 404 ``SubscriptionNotFound``;
- a subscription in state ``Warned`` or ``Disabled``: read-only. GET and DELETE still work,
  writes (PUT, PATCH, POST) get 409 ``ReadOnlyDisabledSubscription`` (Microsoft's "Azure
  subscription states" page; ``PastDue`` keeps full access).

``GET /subscriptions`` and ``GET /subscriptions/{id}`` are not gated here: they read the
subscription objects themselves (their handler answers 404 for an unknown id).
"""

from __future__ import annotations

from remediator.emulator.routing import Request, Response, arm_error
from remediator.emulator.state import EmulatorState

READ_ONLY_STATES = frozenset({"warned", "disabled"})
GONE_STATES = frozenset({"deleted"})
WRITE_METHODS = frozenset({"PUT", "PATCH", "POST"})


def subscription_in_path(path: str) -> str | None:
    """The subscription id of ``/subscriptions/{id}/<more>``; None for other paths.

    >>> subscription_in_path("/subscriptions/S1/resourceGroups/rg")
    'S1'
    >>> subscription_in_path("/subscriptions/S1") is None
    True
    >>> subscription_in_path("/providers/Microsoft.Management/managementGroups/mg") is None
    True
    """
    segments = path.strip("/").split("/")
    if len(segments) < 3 or segments[0].lower() != "subscriptions" or not segments[1]:
        return None
    return segments[1]


def subscription_refusal(state: EmulatorState, request: Request) -> Response | None:
    """ARM's answer when the request's subscription is unknown, gone or read-only; else None."""
    subscription_id = subscription_in_path(request.path)
    if subscription_id is None:
        return None
    with state.lock:
        subscription = state.subscription(subscription_id)
    subscription_state = str((subscription or {}).get("state", "Enabled")).lower()
    if subscription is None or subscription_state in GONE_STATES:
        return arm_error(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")
    if subscription_state in READ_ONLY_STATES and request.method.upper() in WRITE_METHODS:
        return arm_error(
            409,
            "ReadOnlyDisabledSubscription",
            f"The subscription '{subscription_id}' is disabled and therefore marked as read only. "
            "You cannot perform any write actions on this subscription until it is re-enabled.",
        )
    return None
