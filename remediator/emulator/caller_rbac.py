"""RBAC on the caller (the bot's own principal), opt-in with the ``rbac`` knob.

ARM authorizes every request against the caller's role assignments before the resource provider
sees it: the operation is the resource type path plus ``read`` (GET), ``write`` (PUT/PATCH),
``delete`` (DELETE) or ``<name>/action`` (POST), and a refusal is 403 ``AuthorizationFailed``
naming the action and scope (learn.microsoft.com/azure/role-based-access-control/
role-definitions#control-and-data-actions; the operation names are those of "Azure resource
provider operations"). With the knob off (the default) the principal may do anything, as the
existing tests assume; with it on, what ``remediator permissions`` prints can be shown to be
enough for the job, and each action in it to be needed.

A few POSTs are reads in Azure's operation list: a Resource Graph query is
``Microsoft.ResourceGraph/resources/read``, listing a remediation's deployments
``Microsoft.PolicyInsights/remediations/listDeployments/read``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from remediator.emulator.authorization import authorization_failed, permitted
from remediator.emulator.routing import Request, Response
from remediator.emulator.store import split_id, subscription_of

if TYPE_CHECKING:
    from remediator.emulator.state import EmulatorState

OPERATION_PATH_PREFIX = "/providers/microsoft.emulator/"
_POST_READS = {
    "microsoft.resourcegraph/resources/action": "Microsoft.ResourceGraph/resources/read",
    "microsoft.policyinsights/remediations/listdeployments/action": (
        "Microsoft.PolicyInsights/remediations/listDeployments/read"
    ),
}
_VERBS = {"GET": "read", "HEAD": "read", "PUT": "write", "PATCH": "write", "DELETE": "delete"}


def operation(method: str, path: str) -> tuple[str, str] | None:
    """(ARM operation, scope it is checked at) for a request, or None when ARM checks none."""
    parts = split_id(path)
    if not parts or path.lower().startswith(OPERATION_PATH_PREFIX):
        return None
    lowered = [p.lower() for p in parts]
    cut = max((i for i, p in enumerate(lowered) if p == "providers"), default=-1)
    if cut < 0 or cut + 1 >= len(parts):
        # /subscriptions[/S[/resourceGroups[/rg]]]: Microsoft.Resources' own types.
        types = [p for i, p in enumerate(parts) if i % 2 == 0]
        return f"Microsoft.Resources/{'/'.join(types)}/{_VERBS.get(method, 'action')}", path
    namespace, rest = parts[cut + 1], parts[cut + 2 :]
    prefix = "/" + "/".join(parts[:cut]) if cut else "/"
    if not rest:  # /subscriptions/S/providers/NS: the provider's registration state
        return "Microsoft.Resources/subscriptions/providers/read", prefix
    types = rest[0::2]
    if len(rest) % 2 == 1:  # a collection (GET) or an action (POST) after the last name
        if method == "POST":
            name = f"{namespace}/{'/'.join(types)}/action" if len(rest) == 1 else None
            name = name or f"{namespace}/{'/'.join(types[:-1])}/{types[-1]}/action"
            scope = "/" + "/".join(parts[: len(parts) - 1])
            return _POST_READS.get(name.lower(), name), scope
        return f"{namespace}/{'/'.join(types)}/{_VERBS.get(method, 'action')}", prefix
    return f"{namespace}/{'/'.join(types)}/{_VERBS.get(method, 'action')}", path


def refusal(state: EmulatorState, request: Request) -> Response | None:
    """ARM's 403 when the caller's roles do not allow the request's operation at its scope."""
    found = operation(request.method, request.path)
    if found is None or not request.principal:
        return None
    action, scope = found
    if subscription_of(scope) or "/managementgroups/" in scope.lower():
        allowed = permitted(state, request.principal, action, scope)
    else:
        # Tenant-level calls (a Resource Graph query, the subscription list, built-in role
        # definitions) answer with what the caller may see below; they need the action somewhere.
        allowed = any(permitted(state, request.principal, action, f"/subscriptions/{s}") for s in state.subscriptions)
    if allowed:
        return None
    return Response(403, {"error": authorization_failed(request.principal, action, scope)})
