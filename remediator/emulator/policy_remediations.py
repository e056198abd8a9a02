"""Policy Insights remediations (2024-10-01, 2021-10-01, 2019-07-01) at every scope, run asynchronously.

Routes: PUT/GET/DELETE, list (``$top``, ``$filter`` on PolicyAssignmentId /
PolicyDefinitionReferenceId), ``listDeployments`` and ``cancel``, at management group,
subscription, resource group and resource scope (``{scope*}``).

A task advances by observing polls (GET, list, listDeployments), never by wall clock:
Accepted -> Evaluating -> Running (targets chosen, one deployment each; ``parallelDeployments`` of
them run per phase, and once failures exceed ``failureThreshold`` the rest are canceled) ->
Succeeded, or Failed when any deployment failed; each state lasts ``remediation_polls`` polls
(a knob). The run itself, and what a deployment does, is ``policy_remediation_runs``.

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

from remediator.emulator.policy_model import assignment_member, effect_of, in_scope, require_scope
from remediator.emulator.policy_remediation_runs import deployments_of, observe, start_run, stop_run
from remediator.emulator.routing import ArmError, Request, Response, Route, paged, route
from remediator.emulator.state import EmulatorState
from remediator.emulator.store import split_id
from remediator.emulator.system_data import system_data

ROUTES: list[Route] = []

VERSIONS = ("2024-10-01", "2021-10-01", "2019-07-01", "2018-07-01-preview")
WITH_COUNTS = ("2024-10-01", "2021-10-01")
WITH_RESOURCE_IDS = ("2024-10-01",)
NEW_FIELDS = ("resourceCount", "parallelDeployments", "failureThreshold", "statusMessage", "correlationId")
TYPE = "Microsoft.PolicyInsights/remediations"
BASE = "{scope*}/providers/Microsoft.PolicyInsights/remediations"
RUNNING = ("Accepted", "Evaluating", "Running")
_FILTER_CLAUSE = re.compile(r"^\s*(PolicyAssignmentId|PolicyDefinitionReferenceId)\s+eq\s+'([^']*)'\s*$", re.I)


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
    # azure-rest-api-specs policyinsights stable/2024-10-01/remediations.json, RemediationFilters.resourceIds:
    # "Can specify at most 100 IDs. This filter cannot be used when ReEvaluateCompliance is set to
    # ReEvaluateCompliance, and cannot be empty if provided." (tests/contract/test_remediation_spec_rules.py)
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
        "systemData": system_data(state, existing, request.principal),
    }
    state.store.put(body)
    accepted = _served(request, body)  # before the run starts: with remediation_polls=0 it ends at once
    start_run(state, remediation_id)
    return Response(200 if existing else 201, accepted)


def _observed(state: EmulatorState, remediation_id: str) -> dict[str, Any]:
    observe(state, remediation_id)
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
    remediation = _observed(state, remediation_id)
    ran = deployments_of(state).get(remediation_id.lower())
    # A task the estate describes (an export of past runs) lists the deployments it carries.
    seeded = (remediation.get("properties") or {}).get("deployments") or []
    items = copy.deepcopy(ran if ran is not None else seeded)
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
    stop_run(state, remediation_id)
    props["provisioningState"] = "Canceled"
    props["lastUpdatedOn"] = state.now_iso()
    for deployment in deployments_of(state).get(remediation_id.lower(), []):
        if deployment["status"] == "Running":
            deployment["status"] = "Canceled"
    return Response(200, _served(request, remediation))


@route(ROUTES, "DELETE", BASE + "/{name}", api_versions=VERSIONS)
def delete_remediation(state: EmulatorState, request: Request) -> Response:
    remediation_id = _remediation_id(request)
    stop_run(state, remediation_id)
    removed = state.store.delete(remediation_id)
    deployments_of(state).pop(remediation_id.lower(), None)
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
