"""Resolve policy (set) and role definition ids into their ARM JSON for `Estate.definitions`.

Definitions are kept exactly as ARM returns them (the raw response body), so playbooks read
``properties.policyRule`` or ``properties.permissions`` in ARM's own shape, unknown fields included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import UsageError
from ..estate import parse_resource_id
from .arm_errors import read_errors
from .clients import ArmClients
from .sdk_values import raw_body


def _management_group_of(definition_id: str) -> str | None:
    parts = [p for p in definition_id.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "managementgroups" in lowered:
        index = lowered.index("managementgroups")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


def read_definition(clients: ArmClients, definition_id: str, any_subscription: str | None) -> Mapping[str, Any]:
    """One policy definition, policy set definition or role definition, by id."""
    parts = parse_resource_id(definition_id)
    kind = parts.get("type", "").lower()
    name = parts.get("name", "")
    subscription = parts.get("subscription") or any_subscription
    group = _management_group_of(definition_id)
    if kind == "microsoft.authorization/roledefinitions":
        if not subscription:
            raise UsageError(f"cannot resolve {definition_id}: no subscription in scope")
        with read_errors():
            body = clients.authorization(subscription).role_definitions.get_by_id(definition_id, cls=raw_body)
        return dict(body)
    if kind not in ("microsoft.authorization/policydefinitions", "microsoft.authorization/policysetdefinitions"):
        raise UsageError(f"not a policy or role definition id: {definition_id}")
    if not subscription:
        raise UsageError(f"cannot resolve {definition_id}: no subscription in scope")
    policy = clients.policy(subscription)
    ops: Any = policy.policy_definitions if kind.endswith("/policydefinitions") else policy.policy_set_definitions
    with read_errors():
        if group:
            body = ops.get_at_management_group(group, name, cls=raw_body)
        elif parts.get("subscription"):
            body = ops.get(name, cls=raw_body)
        else:
            body = ops.get_built_in(name, cls=raw_body)
    return dict(body)


def read_definitions(
    clients: ArmClients, definition_ids: Iterable[str], any_subscription: str | None
) -> dict[str, Mapping[str, Any]]:
    """Lowercase id -> definition JSON, read concurrently."""
    ids = sorted({d for d in definition_ids}, key=str.lower)
    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        bodies = list(pool.map(lambda d: read_definition(clients, d, any_subscription), ids))
    return {d.lower(): body for d, body in zip(ids, bodies, strict=True)}
