"""On-demand compliance scans: ``policyStates/latest/triggerEvaluation`` as the service runs them.

get-compliance-data.md ("On-demand evaluation scan - REST"): the POST answers **202 Accepted**
with a ``Location`` header only, ``.../providers/Microsoft.PolicyInsights/asyncOperationResults/
{ResourceContainerGUID}``, a guid "statically generated for the scope requested"; while a scan of
that scope runs, a new request gets the same Location and starts nothing. A GET of the Location
answers 202 while the scan runs and 200 ``{"status": "Succeeded"}`` once it is done. The scan
takes ``evaluation_scan_seconds`` of simulated time (none under ``consistency: instant``) and then
re-evaluates every record in its scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from remediator.emulator.policy_evaluation import evaluate
from remediator.emulator.policy_model import in_scope, require_scope
from remediator.emulator.routing import ArmError, Request, Response, Route, route
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []

STATES_VERSIONS = ("2019-10-01",)
SCAN_NAMESPACE = uuid.UUID("6b1f0f5e-52a4-4c36-9d0e-8f3c7a9e2b41")
INSIGHTS = "/providers/Microsoft.PolicyInsights"


@dataclass
class Scan:
    scope: str
    ends: datetime
    done: bool = False


def _scans(state: EmulatorState) -> dict[str, Scan]:
    scans: dict[str, Scan] = state.extras.setdefault("policy.scans", {})
    return scans


def _finish(state: EmulatorState, guid: str) -> None:
    scan = _scans(state)[guid]
    if not scan.done:
        evaluate(state, [r for r in state.policy_states if in_scope(state, str(r.get("resourceId", "")), scan.scope)])
        scan.done = True


def start_scan(state: EmulatorState, request: Request, scope: str, subscription_id: str) -> Response:
    require_scope(state, scope)
    guid = str(uuid.uuid5(SCAN_NAMESPACE, scope.lower()))
    scans = _scans(state)
    running = scans.get(guid)
    if running is None or running.done:
        delay = state.delay(state.knobs.evaluation_scan_seconds)
        scans[guid] = Scan(scope=scope, ends=state.current_time() + delay)
        state.schedule(delay, lambda: _finish(state, guid))
    query = urlencode({"api-version": request.api_version or STATES_VERSIONS[0]})
    location = f"{request.base_url}/subscriptions/{subscription_id}{INSIGHTS}/asyncOperationResults/{guid}?{query}"
    return Response(202, None, {"Location": location, "Retry-After": str(state.knobs.retry_after_seconds)})


@route(
    ROUTES,
    "POST",
    "/subscriptions/{subscriptionId}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation",
    api_versions=STATES_VERSIONS,
)
def trigger_subscription_evaluation(state: EmulatorState, request: Request) -> Response:
    subscription_id = request.params["subscriptionId"]
    return start_scan(state, request, f"/subscriptions/{subscription_id}", subscription_id)


@route(
    ROUTES,
    "POST",
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation",
    api_versions=STATES_VERSIONS,
)
def trigger_resource_group_evaluation(state: EmulatorState, request: Request) -> Response:
    subscription_id = request.params["subscriptionId"]
    scope = f"/subscriptions/{subscription_id}/resourceGroups/{request.params['resourceGroupName']}"
    return start_scan(state, request, scope, subscription_id)


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/providers/Microsoft.PolicyInsights/asyncOperationResults/{guid}",
    api_versions=STATES_VERSIONS,
)
def scan_status(state: EmulatorState, request: Request) -> Response:
    scan = _scans(state).get(request.params["guid"].lower())
    if scan is None:
        raise ArmError(404, "NotFound", f"No evaluation scan '{request.params['guid']}' was started.")
    if not scan.done:
        query = urlencode({"api-version": request.api_version or STATES_VERSIONS[0]})
        location = f"{request.base_url}{request.path}?{query}"
        return Response(202, None, {"Location": location, "Retry-After": str(state.knobs.retry_after_seconds)})
    body: dict[str, Any] = {"status": "Succeeded"}
    return Response(200, body)
