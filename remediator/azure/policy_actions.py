"""Policy actions: role grants for assignment identities, and remediation tasks.

* ``create-role-assignment``: ``params`` ``scope``, ``name`` (uuid5 of scope|principal|role, so a
  re-run names the same grant the same way), ``principal_id``, ``role_definition_id``,
  ``principal_type``, ``description``. ``before``/``after`` are ``{"principalId",
  "roleDefinitionId"}`` of the assignment of that principal and role at exactly that scope
  (``roleDefinitionId`` read back scope-free, principal lowercased), whatever its name: ARM's 409
  ``RoleAssignmentExists`` (same scope, principal and role under another name) counts as done. A
  principal created moments ago may not have replicated yet: ``PrincipalNotFound`` is retried
  (bounded) by the ``PRINCIPAL_NOT_FOUND`` rule.
* ``create-remediation``: ``resource_id`` is ``<scope>/providers/Microsoft.PolicyInsights/
  remediations/<name>`` at a management group, subscription, resource group or resource;
  ``params.body`` is the JSON body, sent as is at ``params.api_version`` (the SDK's 2019-07-01
  model has no ``resourceCount``, ``parallelDeployments``, ``failureThreshold`` (2021-10-01) or
  ``filters.resourceIds`` (2024-10-01), and would drop them). ``before``/``after`` are
  ``{"provisioningState"}``. Execute waits (bounded by ``remediation_timeout``) for a terminal
  state, reads ``listDeployments`` and returns each machine's outcome; failed deployments raise
  `ArmOperationError` with the first deployment's error code (``AuthorizationFailed`` ...) and
  every machine's error in the message.
  ``Succeeded`` and ``Complete`` are the terminal successful states (remediation-structure.md).
  ``params.trigger_evaluation`` then requests a compliance scan of the task's resource group or
  subscription (the subscription of its first machine for a management group or resource scope),
  once per scope per run, and waits at most ``params.scan_wait_seconds`` (default 300) for it: a
  scan still running then is reported as such (it goes on in Azure), never as done.

A compliance scan is not an action of its own: it has no ARM state to read back and verify, so it
runs as part of ``create-remediation`` (``params.trigger_evaluation``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from ..errors import ArmOperationError, UsageError
from ..model import Change
from .actions import Action, register_action
from .arm_errors import arm_errors
from .retry import PRINCIPAL_NOT_FOUND, REMEDIATION_RUNNING, PollTimeout, call_with_retry, poll_until

if TYPE_CHECKING:
    from azure.mgmt.policyinsights import PolicyInsightsClient

    from .clients import ArmClients

REMEDIATIONS = "/providers/microsoft.policyinsights/remediations/"
MG_PREFIX = "/providers/microsoft.management/managementgroups/"
RUNNING_STATES = frozenset({"accepted", "evaluating", "running", "cancelling"})
# remediation-structure.md: provisioning states Running, Canceled, Cancelling, Failed, Complete, Succeeded.
SUCCEEDED_STATES = frozenset({"succeeded", "complete"})
DEFAULT_SCAN_WAIT_SECONDS = 300.0
DEFAULT_REMEDIATION_API_VERSION = "2024-10-01"
# Any subscription works for tenant-level calls (management group scope): the client needs one.
PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
# Machines named one by one in an outcome; a task of 100 would not fit a report's line.
MAX_LISTED = 10


def raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """``cls=`` hook: the response JSON as ARM sent it (``text()`` works on every transport's response)."""
    return json.loads(pipeline_response.http_response.text())


def _guid(role_definition_id: str) -> str:
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


def _subscription_of(resource_id: str) -> str:
    parts = [p for p in resource_id.split("/") if p]
    return parts[1] if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""


# --- create-role-assignment -----------------------------------------------------------------


def _role_params(change: Change) -> tuple[str, str, str]:
    params = change.params
    scope, principal, role = (str(params.get(k) or "") for k in ("scope", "principal_id", "role_definition_id"))
    if not scope or not principal or not role:
        raise UsageError(f"create-role-assignment needs scope, principal_id and role_definition_id: {change.id}")
    return scope, principal, role


def _auth_subscription(scope: str, role: str) -> str:
    return _subscription_of(scope) or _subscription_of(role) or PLACEHOLDER_SUBSCRIPTION


def _read_role(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    scope, principal, role = _role_params(change)
    client = clients.authorization(_auth_subscription(scope, role))
    with arm_errors():
        found = client.role_assignments.list_for_scope(scope.lstrip("/"), filter=f"principalId eq '{principal}'")
        for assignment in found:
            if str(assignment.scope or "").rstrip("/").lower() == scope.rstrip("/").lower() and _guid(
                str(assignment.role_definition_id or "")
            ) == _guid(role):
                return {
                    "principalId": str(assignment.principal_id or "").lower(),
                    "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{_guid(role)}",
                }
    return {"principalId": None, "roleDefinitionId": None}


def _create_role(clients: ArmClients, change: Change) -> str:
    scope, principal, role = _role_params(change)
    name = str(change.params.get("name") or change.resource_id.rstrip("/").rsplit("/", 1)[-1])
    client = clients.authorization(_auth_subscription(scope, role))
    parameters = RoleAssignmentCreateParameters(
        role_definition_id=role,
        principal_id=principal,
        principal_type=str(change.params.get("principal_type") or "ServicePrincipal"),
        description=change.params.get("description"),
    )

    def create() -> None:
        with arm_errors():
            client.role_assignments.create(scope.lstrip("/"), name, parameters)

    try:
        call_with_retry(PRINCIPAL_NOT_FOUND, clients.settings, create)
    except ArmOperationError as exc:
        if exc.code != "RoleAssignmentExists":
            raise
        return f"role {_guid(role)} already assigned to {principal} at {scope} (RoleAssignmentExists)"
    return f"assigned role {_guid(role)} to {principal} at {scope} as {name}"


CREATE_ROLE_ASSIGNMENT = register_action(
    Action(
        name="create-role-assignment",
        read=_read_role,
        execute=_create_role,
        permissions=("Microsoft.Authorization/roleAssignments/write",),
        description="Grant a policy assignment's managed identity a role at a scope (deterministic name)",
    )
)


# --- create-remediation -----------------------------------------------------------------------


class RemediationTarget:
    """A remediation id, and the SDK calls for its scope (management group, subscription, group, resource)."""

    def __init__(self, remediation_id: str, hint_subscription: str = "") -> None:
        cut = remediation_id.lower().rfind(REMEDIATIONS)
        if cut < 0:
            raise UsageError(f"not a remediation id: {remediation_id!r}")
        self.scope = remediation_id[:cut]
        self.name = remediation_id[cut + len(REMEDIATIONS) :]
        parts = [p for p in self.scope.split("/") if p]
        lowered = self.scope.lower()
        if lowered.startswith(MG_PREFIX):
            self.kind, self.group = "management_group", parts[3]
        elif len(parts) == 2:
            self.kind, self.group = "subscription", ""
        elif len(parts) == 4:
            self.kind, self.group = "resource_group", parts[3]
        else:
            self.kind, self.group = "resource", ""
        self.subscription = _subscription_of(self.scope) or hint_subscription or PLACEHOLDER_SUBSCRIPTION

    def client(self, clients: ArmClients) -> PolicyInsightsClient:
        return clients.policy_insights(self.subscription)

    def _call(self, clients: ArmClients, verb: str, *args: Any, **kwargs: Any) -> Any:
        ops: Any = self.client(clients).remediations
        if self.kind == "management_group":
            return getattr(ops, f"{verb}_at_management_group")(self.group, self.name, *args, **kwargs)
        if self.kind == "subscription":
            return getattr(ops, f"{verb}_at_subscription")(self.name, *args, **kwargs)
        if self.kind == "resource_group":
            return getattr(ops, f"{verb}_at_resource_group")(self.group, self.name, *args, **kwargs)
        return getattr(ops, f"{verb}_at_resource")(self.scope.lstrip("/"), self.name, *args, **kwargs)

    def get(self, clients: ArmClients, api_version: str) -> dict[str, Any] | None:
        try:
            with arm_errors():
                body = self._call(clients, "get", api_version=api_version, cls=raw_json)
        except ArmOperationError as exc:
            if exc.not_found or exc.code == "RemediationNotFound":
                return None
            raise
        return dict(body)

    def put(self, clients: ArmClients, body: Mapping[str, Any], api_version: str) -> dict[str, Any]:
        # Bytes, not the SDK model: the 2019-07-01 model would drop the 2021-10-01 fields.
        content = json.dumps(body).encode()
        with arm_errors():
            return dict(self._call(clients, "create_or_update", content, api_version=api_version, cls=raw_json))

    def deployments(self, clients: ArmClients, api_version: str) -> list[Any]:
        with arm_errors():
            return list(self._call(clients, "list_deployments", api_version=api_version))


def _api_version(change: Change) -> str:
    return str(change.params.get("api_version") or DEFAULT_REMEDIATION_API_VERSION)


def _target(change: Change) -> RemediationTarget:
    ids = change.params.get("resource_ids") or ()
    hint = _subscription_of(str(ids[0])) if ids else ""
    return RemediationTarget(change.resource_id, hint)


def _read_remediation(clients: ArmClients, change: Change) -> Mapping[str, Any]:
    found = _target(change).get(clients, _api_version(change))
    state = (found or {}).get("properties", {}).get("provisioningState")
    return {"provisioningState": str(state) if state else None}


def _machine(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def _execute_remediation(clients: ArmClients, change: Change) -> str:
    target = _target(change)
    api_version = _api_version(change)
    body = change.params.get("body")
    if not isinstance(body, Mapping):
        raise UsageError(f"create-remediation needs params.body: {change.id}")
    target.put(clients, body, api_version)
    settings = clients.settings

    def state_of(value: dict[str, Any] | None) -> str:
        return str((value or {}).get("properties", {}).get("provisioningState") or "")

    try:
        final = poll_until(
            REMEDIATION_RUNNING,
            settings,
            lambda: target.get(clients, api_version),
            lambda value: state_of(value).lower() not in RUNNING_STATES,
            first_wait=True,
        )
    except PollTimeout as exc:
        last = state_of(exc.last if isinstance(exc.last, dict) else None)
        raise ArmOperationError(
            "RemediationTimeout",
            f"remediation {target.name} still {last or 'unknown'} after {settings.remediation_timeout:g}s; "
            "it keeps running in Azure, and the next run will not start another one for this assignment",
        ) from None
    state = state_of(final)
    outcomes = target.deployments(clients, api_version)
    failed = [d for d in outcomes if str(d.status or "").lower() != "succeeded"]
    succeeded = [d for d in outcomes if d not in failed]
    summary = f"remediation {target.name}: {state}, {len(succeeded)}/{len(outcomes)} deployments succeeded"
    if change.params.get("trigger_evaluation"):
        scope = (
            target.scope
            if target.kind in ("subscription", "resource_group")
            else f"/subscriptions/{target.subscription}"
        )
        wait = float(change.params.get("scan_wait_seconds") or DEFAULT_SCAN_WAIT_SECONDS)
        summary += "; " + _scan_once(clients, scope, wait)
    if failed or state.lower() not in SUCCEEDED_STATES:
        errors = [
            f"{_machine(str(d.remediated_resource_id))}: "
            + (f"{d.error.code}: {d.error.message}" if d.error is not None else str(d.status))
            for d in failed
        ]
        code = next((str(d.error.code) for d in failed if d.error is not None and d.error.code), "RemediationFailed")
        if len(errors) > MAX_LISTED:
            errors = [*errors[:MAX_LISTED], f"and {len(errors) - MAX_LISTED} more (listDeployments has them all)"]
        if succeeded:
            summary += f"; succeeded: {_names(succeeded)}"
        raise ArmOperationError(code, summary + ("; " + " | ".join(errors) if errors else ""))
    return summary + (f" ({_names(succeeded)})" if succeeded else "")


def _names(deployments: list[Any]) -> str:
    names = [_machine(str(d.remediated_resource_id)) for d in deployments]
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more


CREATE_REMEDIATION = register_action(
    Action(
        name="create-remediation",
        read=_read_remediation,
        execute=_execute_remediation,
        permissions=(
            "Microsoft.PolicyInsights/remediations/write",
            "Microsoft.PolicyInsights/remediations/read",
            "Microsoft.PolicyInsights/remediations/listDeployments/read",
            "Microsoft.PolicyInsights/policyStates/triggerEvaluation/action",
        ),
        description="Create a remediation task and wait for its deployments",
    )
)


# --- compliance scans ------------------------------------------------------------------------


def _scan_once(clients: ArmClients, scope: str, wait: float) -> str:
    """Request a compliance scan of ``scope`` unless this run already did; say what came of it."""
    key = scope.rstrip("/").lower()
    with clients.scan_lock:
        if key in clients.compliance_scans:
            return f"compliance scan of {scope} already requested in this run ({clients.compliance_scans[key]})"
        clients.compliance_scans[key] = "requested"
    outcome = _trigger(clients, scope, wait)
    clients.compliance_scans[key] = outcome
    return outcome


def _trigger(clients: ArmClients, scope: str, wait: float) -> str:
    """Start the scan (202 + Location) and wait for it at most ``wait`` seconds."""
    parts = [p for p in scope.split("/") if p]
    if len(parts) < 2 or parts[0].lower() != "subscriptions":
        raise UsageError(f"a compliance scan needs a subscription or resource group, got {scope!r}")
    states = clients.policy_insights(parts[1]).policy_states
    with arm_errors():
        poller = (
            states.begin_trigger_resource_group_evaluation(parts[1], parts[3])
            if len(parts) >= 4
            else states.begin_trigger_subscription_evaluation(parts[1])
        )
        # wait() returns when the scan ends or the time is up, whichever comes first; result()
        # afterwards only raises the scan's own error.
        poller.wait(timeout=wait)
        if not poller.done():
            return (
                f"compliance scan of {scope} timed out after {wait:g}s of waiting (it keeps running in Azure; "
                "states update when it ends)"
            )
        poller.result()
    return f"compliance scan of {scope} completed"


__all__ = ["CREATE_REMEDIATION", "CREATE_ROLE_ASSIGNMENT", "RemediationTarget"]
