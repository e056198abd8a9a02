"""Thin wrappers over ARM's generic resource API, for actions that read or write one resource.

Bodies go in and come out as ARM's own JSON (the SDK's ``cls=`` hook hands back the raw
response), so an action compares and fingerprints exactly what ARM holds. Every write waits for
its long-running operation, bounded by ``settings.operation_timeout``, and is retried while ARM
answers ``AnotherOperationInProgress`` (`retry.OPERATION_IN_PROGRESS`). Errors arrive as
`ArmOperationError` with ARM's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from azure.core.exceptions import ResourceNotFoundError
from azure.core.polling import LROPoller

from ..errors import ArmOperationError
from ..estate import parse_resource_id
from .arm_errors import arm_errors
from .clients import ArmClients
from .retry import OPERATION_IN_PROGRESS, call_with_retry
from .sdk_values import raw_body


def _subscription_for(resource_id: str, subscription_id: str | None) -> str:
    found = parse_resource_id(resource_id).get("subscription") or subscription_id
    if not found:
        raise ValueError(f"{resource_id} names no subscription; pass subscription_id")
    return found


def wait_for(poller: LROPoller[Any], clients: ArmClients, what: str) -> Any:
    """The result of a long-running operation, waiting at most ``settings.operation_timeout``."""
    timeout = clients.settings.operation_timeout
    poller.wait(timeout=timeout)
    if not poller.done():
        raise ArmOperationError("OperationTimedOut", f"{what} still {poller.status()} after {timeout:g}s")
    with arm_errors():
        return poller.result()


def get_json(
    clients: ArmClients, resource_id: str, api_version: str, *, subscription_id: str | None = None
) -> dict[str, Any] | None:
    """The resource as ARM returns it, or None when it does not exist (404)."""
    ops = clients.resources(_subscription_for(resource_id, subscription_id)).resources
    with arm_errors():
        try:
            return dict(ops.get_by_id(resource_id, api_version=api_version, cls=raw_body))
        except ResourceNotFoundError:
            return None


def _write(
    clients: ArmClients, verb: str, resource_id: str, api_version: str, body: Mapping[str, Any] | None, sub: str | None
) -> Any:
    ops = clients.resources(_subscription_for(resource_id, sub)).resources

    def attempt() -> Any:
        poller: LROPoller[Any]
        with arm_errors():
            if verb == "PUT":
                poller = ops.begin_create_or_update_by_id(
                    resource_id, dict(body or {}), api_version=api_version, cls=raw_body
                )
            elif verb == "PATCH":
                poller = ops.begin_update_by_id(resource_id, dict(body or {}), api_version=api_version, cls=raw_body)
            else:
                poller = ops.begin_delete_by_id(resource_id, api_version=api_version)
        return wait_for(poller, clients, f"{verb} {resource_id}")

    return call_with_retry(OPERATION_IN_PROGRESS, clients.settings, attempt)


def put_json(
    clients: ArmClients,
    resource_id: str,
    api_version: str,
    body: Mapping[str, Any],
    *,
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """Create or replace; returns the resource as ARM holds it afterwards."""
    return dict(_write(clients, "PUT", resource_id, api_version, body, subscription_id) or {})


def patch_json(
    clients: ArmClients,
    resource_id: str,
    api_version: str,
    body: Mapping[str, Any],
    *,
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """Update the given fields; returns the resource as ARM holds it afterwards."""
    return dict(_write(clients, "PATCH", resource_id, api_version, body, subscription_id) or {})


def delete_resource(
    clients: ArmClients, resource_id: str, api_version: str, *, subscription_id: str | None = None
) -> bool:
    """Delete; False when it was already gone (404), which a re-run must treat as done."""
    try:
        _write(clients, "DELETE", resource_id, api_version, None, subscription_id)
    except ArmOperationError as exc:
        if exc.not_found:
            return False
        raise
    return True
