"""Status endpoints of long-running operations started with ``routing.long_running``.

``Azure-AsyncOperation`` points at ``operationStatuses/{id}`` (ARM's status body:
``{"id", "name", "status", "startTime", "endTime", "error"}``); ``Location`` at
``operationResults/{id}`` (202 while running, then 200 with the result, 204 without one, or the
error). Each poll of either advances the operation one step.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from remediator.emulator.routing import (
    OPERATION_RESULT_PATH,
    OPERATION_STATUS_PATH,
    ROUTE_NO_VERSION,
    ArmError,
    Operation,
    Request,
    Response,
    Route,
    route,
)
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []


def _operation(state: EmulatorState, request: Request) -> Operation:
    operation_id = request.params["operationId"]
    operation = state.operations.get(operation_id)
    if operation is None:
        raise ArmError(404, "OperationNotFound", f"The operation '{operation_id}' could not be found.")
    state.countdowns.poll("operation:" + operation_id)
    return operation


@route(ROUTES, "GET", OPERATION_STATUS_PATH, api_versions=ROUTE_NO_VERSION, name="operation_status")
def operation_status(state: EmulatorState, request: Request) -> Response:
    operation = _operation(state, request)
    body: dict[str, Any] = {
        "id": request.base_url + request.path,
        "name": operation.id,
        "status": operation.status,
        "startTime": operation.start_time,
    }
    if operation.end_time:
        body["endTime"] = operation.end_time
    if operation.outcome is not None and operation.outcome.error is not None:
        body["error"] = {"code": operation.outcome.error.code, "message": operation.outcome.error.message}
    return Response(200, body)


@route(ROUTES, "GET", OPERATION_RESULT_PATH, api_versions=ROUTE_NO_VERSION, name="operation_result")
def operation_result(state: EmulatorState, request: Request) -> Response:
    operation = _operation(state, request)
    outcome = operation.outcome
    if outcome is None:
        return Response(
            202,
            None,
            {
                "Location": request.base_url + request.path + "?" + urlencode(dict(request.query)),
                "Retry-After": str(state.knobs.retry_after_seconds),
            },
        )
    if outcome.error is not None:
        raise outcome.error
    if outcome.result is None:
        return Response(204)
    return Response(200, outcome.result)
