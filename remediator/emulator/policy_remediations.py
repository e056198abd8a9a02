"""Policy Insights remediations (2024-10-01, 2021-10-01, 2019-07-01) at every scope, run asynchronously.

Routes: PUT/GET/DELETE, list (``$top``, ``$filter`` on PolicyAssignmentId /
PolicyDefinitionReferenceId), ``listDeployments`` and ``cancel``, at management group,
subscription, resource group and resource scope (``{scope*}``).

A task advances one step per observing poll (GET, list, listDeployments), never by wall clock:
Accepted -> Evaluating -> Running (targets chosen, one deployment each; ``parallelDeployments`` of
them run per poll, and once failures exceed ``failureThreshold`` the rest are canceled) ->
Succeeded, or Failed when any deployment failed. Each deployment runs as the assignment's managed identity and fails
with ``AuthorizationFailed`` where that identity lacks an action at the machine or at a linked
resource (see ``policy_effects``); a successful one applies the effect and flips the machine's
policy state to Compliant (which Resource Graph then serves).

``resourceCount``, ``parallelDeployments`` and ``failureThreshold`` are honoured from 2021-10-01;
``filters.resourceIds`` (at most 100, not with ReEvaluateCompliance) only from 2024-10-01: the
2021-10-01 spec's RemediationFilters has ``locations`` alone, so — as ARM ignores properties an
api-version does not define — a 2021-10-01 task with ``resourceIds`` remediates every non-compliant
resource in its scope. At 2019-07-01 none of these exist; they are neither stored nor served.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from remediator.emulator.authorization import authorization_failed, permitted
from remediator.emulator.policy_effects import apply_to_machine, configuration_assignment_id, plan_deployment
from remediator.emulator.policy_evaluation import evaluate
from remediator.emulator.policy_model import assignment_member, assignment_principal, effect_of, in_scope, require_scope
from remediator.emulator.routing import ArmError, Request, Response, Route, paged, route
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import resource_group_of, split_id, subscription_of

ROUTES: list[Route] = []

VERSIONS = ("2024-10-01", "2021-10-01", "2019-07-01", "2018-07-01-preview")
WITH_COUNTS = ("2024-10-01", "2021-10-01")
WITH_RESOURCE_IDS = ("2024-10-01",)
NEW_FIELDS = ("resourceCount", "parallelDeployments", "failureThreshold", "statusMessage", "correlationId")
TYPE = "Microsoft.PolicyInsights/remediations"
BASE = "{scope*}/providers/Microsoft.PolicyInsights/remediations"
RUNNING = ("Accepted", "Evaluating", "Running")
DEPLOYMENT_NAMESPACE = uuid.UUID("0f3a9b52-7c1e-4d8a-b6a5-2e9f1c4d7a10")
_FILTER_CLAUSE = re.compile(r"^\s*(PolicyAssignmentId|PolicyDefinitionReferenceId)\s+eq\s+'([^']*)'\s*$", re.I)


def _bookkeeping(state: EmulatorState) -> dict[str, list[dict[str, Any]]]:
    policy = state.extras.setdefault("policy", {})
    deployments: dict[str, list[dict[str, Any]]] = policy.setdefault("deployments", {})
    return deployments


def _invalid(message: str) -> ArmError:
    return ArmError(400, "InvalidCreateRemediationRequest", message)


def _served(request: Request, remediation: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(remediation)
    props = body.get("properties") or {}
    if request.api_version not in WITH_COUNTS:
        for name in NEW_FIELDS:
            props.pop(name, None)
    if request.api_version not in WITH_RESOURCE_IDS and isinstance(props.get("filters"), dict):
        props["filters"].pop("resourceIds", None)
    return body


def _validate(state: EmulatorState, request: Request, scope: str) -> dict[str, Any]:
    props = request.json_object().get("properties")
    if not isinstance(props, dict) or not props.get("policyAssignmentId"):
        raise _invalid("The remediation must specify a policy assignment ID.")
    assignment = state.store.get_live(str(props["policyAssignmentId"]))
    if assignment is None:
        raise ArmError(
            404, "PolicyAssignmentNotFound", f"The policy assignment '{props['policyAssignmentId']}' is not found."
        )
    assignment_scope = str((assignment.get("properties") or {}).get("scope") or "")
    if not in_scope(state, scope, assignment_scope):
        raise _invalid(
            f"The remediation scope '{scope}' is not within the policy assignment scope '{assignment_scope}'."
        )
    reference = str(props.get("policyDefinitionReferenceId") or "")
    member = assignment_member(state, assignment, reference)
    if member is None:
        raise _invalid(
            "The policy definition reference ID must identify a policy in the assigned policy set definition."
            if reference or "/policysetdefinitions/" in str(assignment["properties"].get("policyDefinitionId")).lower()
            else "The policy definition of the assignment could not be found."
        )
    if effect_of(*member) not in ("deployifnotexists", "modify"):
        raise _invalid("Only policies with a 'deployIfNotExists' or 'modify' effect can be remediated.")
    kept: dict[str, Any] = {"policyAssignmentId": assignment["id"], "policyDefinitionReferenceId": reference or None}
    mode = str(props.get("resourceDiscoveryMode") or "ExistingNonCompliant")
    if mode not in ("ExistingNonCompliant", "ReEvaluateCompliance"):
        raise _invalid(f"Invalid resource discovery mode '{mode}'.")
    kept["resourceDiscoveryMode"] = mode
    filters = props.get("filters") or {}
    locations = [str(x) for x in filters.get("locations") or []]
    kept["filters"] = {"locations": locations}
    if request.api_version in WITH_RESOURCE_IDS and "resourceIds" in filters:
        ids = filters.get("resourceIds")
        if not isinstance(ids, list) or not ids or len(ids) > 100:
            raise _invalid("The 'resourceIds' filter must contain between 1 and 100 resource IDs.")
        if mode == "ReEvaluateCompliance":
            raise _invalid(
                "The 'resourceIds' filter cannot be used with resource discovery mode 'ReEvaluateCompliance'."
            )
        kept["filters"]["resourceIds"] = [str(i) for i in ids]
    if request.api_version in WITH_COUNTS:
        kept["resourceCount"] = _bounded(props, "resourceCount", 500, 1, 50000)
        kept["parallelDeployments"] = _bounded(props, "parallelDeployments", 10, 1, 30)
        threshold = (props.get("failureThreshold") or {}).get("percentage", 1.0)
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise _invalid("The failure threshold percentage must be a number between 0.0 and 1.0.")
        kept["failureThreshold"] = {"percentage": float(threshold)}
    return kept


def _bounded(props: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = props.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _invalid(f"'{name}' must be an integer between {low} and {high}.")
    return value


def _remediation_id(request: Request) -> str:
    return f"{request.params['scope']}/providers/{TYPE}/{request.params['name']}"


@route(ROUTES, "PUT", BASE + "/{name}", api_versions=VERSIONS)
def put_remediation(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    require_scope(state, scope)
    remediation_id = _remediation_id(request)
    existing = state.store.get_live(remediation_id)
    if existing is not None and existing["properties"].get("provisioningState") in RUNNING:
        raise _invalid(f"The remediation '{request.params['name']}' is in progress and cannot be updated.")
    props = _validate(state, request, scope)
    now = state.now_iso()
    props.update(
        provisioningState="Accepted",
        createdOn=now,
        lastUpdatedOn=now,
        deploymentStatus={"totalDeployments": 0, "successfulDeployments": 0, "failedDeployments": 0},
        statusMessage="Remediation accepted",
        correlationId=str(uuid.uuid4()),
    )
    body = {
        "id": remediation_id,
        "name": request.params["name"],
        "type": TYPE,
        "properties": props,
        "systemData": {
            "createdBy": request.principal,
            "createdByType": "Application",
            "createdAt": now,
            "lastModifiedBy": request.principal,
            "lastModifiedByType": "Application",
            "lastModifiedAt": now,
        },
    }
    state.store.put(body)
    _bookkeeping(state)[remediation_id.lower()] = []
    polls = int(getattr(state.knobs, "remediation_polls", 3))
    state.countdowns.start("remediation:" + remediation_id, polls, lambda left: _tick(state, remediation_id, left))
    return Response(200 if existing else 201, _served(request, body))


def _tick(state: EmulatorState, remediation_id: str, remaining: int) -> None:
    remediation = state.store.get_live(remediation_id)
    if remediation is None:
        return
    props = remediation["properties"]
    props["lastUpdatedOn"] = state.now_iso()
    if remaining >= 2:
        props["provisioningState"] = "Evaluating"
        return
    deployments = _bookkeeping(state).setdefault(remediation_id.lower(), [])
    if not deployments:
        deployments.extend(_start_deployments(state, remediation))
        props["deploymentStatus"]["totalDeployments"] = len(deployments)
    if remaining == 1:
        props["provisioningState"] = "Running"
        return
    # parallelDeployments at a time, one batch per poll; past the failure threshold the rest is canceled.
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
    if pending:
        props["deploymentStatus"]["failedDeployments"] = failed
        props["deploymentStatus"]["successfulDeployments"] = sum(1 for d in deployments if d["status"] == "Succeeded")
        state.countdowns.start("remediation:" + remediation_id, 1, lambda left: _tick(state, remediation_id, left))
        return
    props["deploymentStatus"] = {
        "totalDeployments": len(deployments),
        "successfulDeployments": sum(1 for d in deployments if d["status"] == "Succeeded"),
        "failedDeployments": failed,
    }
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
            }
        )
    reference = str(props.get("policyDefinitionReferenceId") or "").lower()
    for record in state.policy_states:
        if (
            str(record.get("resourceId", "")).lower() == str(machine["id"]).lower()
            and str(record.get("policyAssignmentId", "")).lower() == str(assignment["id"]).lower()
            and str(record.get("policyDefinitionReferenceId") or "").lower() == reference
        ):
            record["complianceState"] = "Compliant"
            record["timestamp"] = state.now_iso()
    state.policy_states_changed()
    deployment["status"] = "Succeeded"


def _observed(state: EmulatorState, remediation_id: str) -> dict[str, Any]:
    state.countdowns.poll("remediation:" + remediation_id)
    found = state.store.get(remediation_id)
    if found is None:
        raise ArmError(
            404, "RemediationNotFound", f"The remediation '{split_id(remediation_id)[-1]}' could not be found."
        )
    return found


@route(ROUTES, "GET", BASE + "/{name}", api_versions=VERSIONS)
def get_remediation(state: EmulatorState, request: Request) -> Response:
    return Response(200, _served(request, _observed(state, _remediation_id(request))))


@route(ROUTES, "POST", BASE + "/{name}/listDeployments", api_versions=VERSIONS)
# The SDK POSTs the first page and GETs the nextLink of the next ones.
@route(ROUTES, "GET", BASE + "/{name}/listDeployments", api_versions=VERSIONS, name="list_deployments_next")
def list_deployments(state: EmulatorState, request: Request) -> Response:
    remediation_id = _remediation_id(request)
    _observed(state, remediation_id)
    items = copy.deepcopy(_bookkeeping(state).get(remediation_id.lower(), []))
    return paged(request, items, page_size=state.knobs.page_size)


@route(ROUTES, "POST", BASE + "/{name}/cancel", api_versions=VERSIONS)
def cancel_remediation(state: EmulatorState, request: Request) -> Response:
    remediation_id = _remediation_id(request)
    remediation = state.store.get_live(remediation_id)
    if remediation is None:
        raise ArmError(404, "RemediationNotFound", f"The remediation '{request.params['name']}' could not be found.")
    props = remediation["properties"]
    if props.get("provisioningState") not in RUNNING:
        raise _invalid(f"The remediation '{request.params['name']}' is not running and cannot be canceled.")
    state.countdowns.cancel("remediation:" + remediation_id)
    props["provisioningState"] = "Canceled"
    props["lastUpdatedOn"] = state.now_iso()
    for deployment in _bookkeeping(state).get(remediation_id.lower(), []):
        if deployment["status"] == "Running":
            deployment["status"] = "Canceled"
    return Response(200, _served(request, remediation))


@route(ROUTES, "DELETE", BASE + "/{name}", api_versions=VERSIONS)
def delete_remediation(state: EmulatorState, request: Request) -> Response:
    remediation_id = _remediation_id(request)
    state.countdowns.cancel("remediation:" + remediation_id)
    removed = state.store.delete(remediation_id)
    _bookkeeping(state).pop(remediation_id.lower(), None)
    return Response(200, _served(request, removed)) if removed is not None else Response(204)


@route(ROUTES, "GET", BASE, api_versions=VERSIONS)
def list_remediations(state: EmulatorState, request: Request) -> Response:
    scope = request.params["scope"]
    require_scope(state, scope)
    wanted: dict[str, str] = {}
    text = (request.filter or "").strip()
    for clause in [c for c in re.split(r"\s+and\s+", text, flags=re.I) if c.strip()]:
        match = _FILTER_CLAUSE.match(clause)
        if not match:
            raise ArmError(400, "InvalidFilterInQueryString", f"The $filter '{text}' is not supported.")
        wanted[match.group(1).lower()] = match.group(2).lower()
    items = []
    for remediation in sorted(state.store.of_type(TYPE), key=lambda r: str(r["id"]).lower()):
        own_scope = str(remediation["id"])[
            : str(remediation["id"]).lower().rfind("/providers/microsoft.policyinsights/")
        ]
        if not in_scope(state, own_scope, scope):
            continue
        props = remediation["properties"]
        if (
            "policyassignmentid" in wanted
            and str(props.get("policyAssignmentId", "")).lower() != wanted["policyassignmentid"]
        ):
            continue
        if "policydefinitionreferenceid" in wanted and (
            str(props.get("policyDefinitionReferenceId") or "").lower() != wanted["policydefinitionreferenceid"]
        ):
            continue
        items.append(_served(request, _observed(state, str(remediation["id"]))))
    return paged(request, items, page_size=state.knobs.page_size)
