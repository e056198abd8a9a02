"""How a remediation task runs once accepted, one phase at a time, each phase a few observing polls.

Every phase lasts ``remediation_polls`` observing polls (GET, list, listDeployments of the task;
a knob, default 1; 0 runs the whole task at once when it is accepted). Nothing depends on wall
clock time (``routing.Countdowns``):

1. Evaluating: the task reports ``Evaluating``.
2. Running: its targets are chosen (after re-evaluating them for ``ReEvaluateCompliance``), one
   deployment each, and the task reports ``Running``.
3. One deployment batch per phase: at its end ``parallelDeployments`` of the running deployments
   run; once failures exceed ``failureThreshold`` the rest are canceled; when none is left the
   task ends ``Succeeded``, or ``Failed`` when any deployment failed.

A deployment runs as the assignment's managed identity and fails with ``AuthorizationFailed``
where that identity lacks an action at the machine or at a linked resource (``policy_effects``);
a successful one applies the effect; the machine's policy state follows on its next evaluation
(``policy_consistency``: about 15 minutes later under ``consistency: azure``, at once under
``instant``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from remediator.emulator.authorization import authorization_failed, permitted
from remediator.emulator.graph_lag import record_key
from remediator.emulator.policy_consistency import resource_changed
from remediator.emulator.policy_effects import apply_to_machine, configuration_assignment_id, plan_deployment
from remediator.emulator.policy_evaluation import evaluate, remediated
from remediator.emulator.policy_model import assignment_member, assignment_principal, effect_of, in_scope
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of, split_id, subscription_of
from remediator.emulator.system_data import MANAGED_IDENTITY, system_data

DEPLOYMENT_NAMESPACE = uuid.UUID("0f3a9b52-7c1e-4d8a-b6a5-2e9f1c4d7a10")

# A phase: called on each poll of it with the polls still to go (0: its last poll).
Phase = Callable[[EmulatorState, dict[str, Any], int], None]


def deployments_of(state: EmulatorState) -> dict[str, list[dict[str, Any]]]:
    """Remediation id (lowercase) -> its deployments, as ``listDeployments`` serves them."""
    policy = state.extras.setdefault("policy", {})
    deployments: dict[str, list[dict[str, Any]]] = policy.setdefault("deployments", {})
    return deployments


def start_run(state: EmulatorState, remediation_id: str) -> None:
    """Begin the run of a task just stored as ``Accepted``."""
    deployments_of(state)[remediation_id.lower()] = []
    _schedule(state, remediation_id, _evaluating)


def observe(state: EmulatorState, remediation_id: str) -> None:
    """One observing poll: advance the task's current phase by a step."""
    state.countdowns.poll(_key(remediation_id))


def stop_run(state: EmulatorState, remediation_id: str) -> None:
    """The task is canceled or deleted: it advances no further."""
    state.countdowns.cancel(_key(remediation_id))


def _key(remediation_id: str) -> str:
    return "remediation:" + remediation_id


def _schedule(state: EmulatorState, remediation_id: str, phase: Phase) -> None:
    def on_tick(remaining: int) -> None:
        remediation = state.store.get_live(remediation_id)
        if remediation is None:
            return
        remediation["properties"]["lastUpdatedOn"] = state.now_iso()
        phase(state, remediation, remaining)

    state.countdowns.start(_key(remediation_id), state.knobs.remediation_polls, on_tick)


def _evaluating(state: EmulatorState, remediation: dict[str, Any], remaining: int) -> None:
    remediation["properties"]["provisioningState"] = "Evaluating"
    if remaining == 0:
        _schedule(state, str(remediation["id"]), _running)


def _running(state: EmulatorState, remediation: dict[str, Any], remaining: int) -> None:
    props = remediation["properties"]
    if props["provisioningState"] != "Running":
        deployments = deployments_of(state).setdefault(str(remediation["id"]).lower(), [])
        deployments.extend(_start_deployments(state, remediation))
        props["deploymentStatus"]["totalDeployments"] = len(deployments)
        props["provisioningState"] = "Running"
    if remaining == 0:
        _schedule(state, str(remediation["id"]), _deploying)


def _deploying(state: EmulatorState, remediation: dict[str, Any], remaining: int) -> None:
    if remaining > 0:
        return
    props = remediation["properties"]
    deployments = deployments_of(state).setdefault(str(remediation["id"]).lower(), [])
    # parallelDeployments at a time, one batch per phase; past the failure threshold the rest is canceled.
    batch = [d for d in deployments if d["status"] == "Running"][: int(props.get("parallelDeployments") or 10)]
    for deployment in batch:
        _run_deployment(state, remediation, deployment)
    failed = sum(1 for d in deployments if d["status"] == "Failed")
    threshold = float((props.get("failureThreshold") or {}).get("percentage", 1.0))
    pending = [d for d in deployments if d["status"] == "Running"]
    if pending and failed / len(deployments) > threshold:
        for deployment in pending:
            deployment.update(status="Canceled", lastUpdatedOn=state.now_iso())
        pending = []
    succeeded = sum(1 for d in deployments if d["status"] == "Succeeded")
    props["deploymentStatus"] = {
        "totalDeployments": len(deployments),
        "successfulDeployments": succeeded,
        "failedDeployments": failed,
    }
    if pending:
        _schedule(state, str(remediation["id"]), _deploying)
        return
    props["provisioningState"] = "Failed" if failed else "Succeeded"
    props["statusMessage"] = f"{failed} of {len(deployments)} deployments failed" if failed else "Remediation succeeded"


def _start_deployments(state: EmulatorState, remediation: dict[str, Any]) -> list[dict[str, Any]]:
    props = remediation["properties"]
    scope = str(remediation["id"])[: str(remediation["id"]).lower().rfind("/providers/microsoft.policyinsights/")]
    reference = str(props.get("policyDefinitionReferenceId") or "").lower()
    filters = props.get("filters") or {}
    ids = {str(i).lower() for i in filters.get("resourceIds") or []}
    locations = {str(x).lower().replace(" ", "") for x in filters.get("locations") or []}
    limit = int(props.get("resourceCount") or 500)
    if props.get("resourceDiscoveryMode") == "ReEvaluateCompliance":
        evaluate(
            state,
            [
                r
                for r in state.policy_states
                if str(r.get("policyAssignmentId", "")).lower() == str(props["policyAssignmentId"]).lower()
                and in_scope(state, str(r.get("resourceId", "")), scope)
            ],
        )
    chosen: dict[str, dict[str, Any]] = {}
    for record in state.policy_states:
        resource_id = str(record.get("resourceId", ""))
        if str(record.get("policyAssignmentId", "")).lower() != str(props["policyAssignmentId"]).lower():
            continue
        if str(record.get("policyDefinitionReferenceId") or "").lower() != reference:
            continue
        if str(record.get("complianceState", "")).lower() != "noncompliant" or resource_id.lower() in chosen:
            continue
        if not in_scope(state, resource_id, scope) or (ids and resource_id.lower() not in ids):
            continue
        machine = state.store.get_live(resource_id)
        location = str((machine or {}).get("location") or record.get("resourceLocation") or "")
        if locations and location.lower().replace(" ", "") not in locations:
            continue
        chosen[resource_id.lower()] = {"resourceId": resource_id, "location": location}
        if len(chosen) >= limit:
            break
    now = state.now_iso()
    out = []
    for target in chosen.values():
        resource_id = target["resourceId"]
        name = str(uuid.uuid5(DEPLOYMENT_NAMESPACE, f"{remediation['id']}|{resource_id}".lower()))
        group = resource_group_of(resource_id)
        where = f"/subscriptions/{subscription_of(resource_id)}" + (f"/resourcegroups/{group}" if group else "")
        out.append(
            {
                "remediatedResourceId": resource_id,
                "deploymentId": f"{where}/providers/microsoft.resources/deployments/{name}",
                "status": "Running",
                "resourceLocation": target["location"],
                "createdOn": now,
                "lastUpdatedOn": now,
            }
        )
    return out


def _run_deployment(state: EmulatorState, remediation: dict[str, Any], deployment: dict[str, Any]) -> None:
    deployment["lastUpdatedOn"] = state.now_iso()
    props = remediation["properties"]
    assignment = state.store.get_live(str(props["policyAssignmentId"]))
    machine = state.store.get(deployment["remediatedResourceId"])
    member = (
        assignment_member(state, assignment, str(props.get("policyDefinitionReferenceId") or ""))
        if assignment
        else None
    )
    if assignment is None or machine is None or member is None:
        deployment.update(
            status="Failed", error={"code": "ResourceNotFound", "message": "The target no longer exists."}
        )
        return
    principal = assignment_principal(state, assignment)
    if not principal:
        deployment.update(
            status="Failed",
            error={
                "code": "PrincipalNotFound",
                "message": f"The managed identity of policy assignment '{assignment['id']}' does not exist.",
            },
        )
        return
    definition, parameters = member
    plan = plan_deployment(machine, definition, parameters, effect_of(definition, parameters))
    for action, scope in plan.checks:
        if not permitted(state, principal, action, scope):
            deployment.update(status="Failed", error=authorization_failed(principal, action, scope))
            return
    apply_to_machine(machine, plan)
    state.store.put(machine)
    if plan.configuration_id:
        assignment_id = configuration_assignment_id(str(machine["id"]), plan.configuration_id)
        state.store.put(
            {
                "id": assignment_id,
                "name": split_id(assignment_id)[-1],
                "type": "Microsoft.Maintenance/configurationAssignments",
                "location": machine.get("location", ""),
                "properties": {"maintenanceConfigurationId": plan.configuration_id, "resourceId": machine["id"]},
                # The deployment runs as the assignment's identity.
                "systemData": system_data(state, state.store.get_live(assignment_id), principal, MANAGED_IDENTITY),
            }
        )
    # The deployment changed the machine (or wrote below it); it does not flip the state: Azure
    # re-evaluates the machine about 15 minutes later (policy_consistency), and only then does the
    # remediated record turn Compliant.
    reference = str(props.get("policyDefinitionReferenceId") or "").lower()
    done = remediated(state)
    for record in state.policy_states:
        if (
            str(record.get("resourceId", "")).lower() == str(machine["id"]).lower()
            and str(record.get("policyAssignmentId", "")).lower() == str(assignment["id"]).lower()
            and str(record.get("policyDefinitionReferenceId") or "").lower() == reference
        ):
            done.add(record_key(record))
    resource_changed(state, str(machine["id"]))
    deployment["status"] = "Succeeded"
