"""The route API other emulator modules plug into: matching, api-versions, paging, ticks, LROs."""

from __future__ import annotations

import pytest

from remediator.emulator.dispatch import EmulatorWsgi
from remediator.emulator.routing import (
    ArmError,
    Countdowns,
    OperationOutcome,
    Request,
    Response,
    Route,
    check_api_version,
    decode_skip_token,
    long_running,
    paged,
    route,
)
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []


@route(ROUTES, "GET", "{resourceId*}", api_versions=("*",), name="generic")
@route(
    ROUTES,
    "GET",
    "{scope*}/providers/Microsoft.PolicyInsights/remediations/{name}",
    api_versions=("2021-10-01",),
    name="remediation",
)
@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/providers/{namespace}",
    api_versions=("2025-04-01",),
    name="provider",
)
def handler(state: EmulatorState, request: Request) -> Response:
    return Response(200, dict(request.params))


def request(path: str = "/x", **query: str) -> Request:
    return Request(method="GET", path=path, params={}, query=query, body=None, headers={}, base_url="https://h:1")


def select(path: str) -> tuple[str, dict[str, str]]:
    app = EmulatorWsgi.__new__(EmulatorWsgi)
    app.routes = ROUTES
    chosen, params = app._select("GET", path)
    assert chosen is not None
    return chosen.name, params


def test_most_specific_route_wins_and_matching_ignores_case():
    assert select("/SUBSCRIPTIONS/s1/Providers/microsoft.compute") == (
        "provider",
        {"subscriptionId": "s1", "namespace": "microsoft.compute"},
    )
    assert select("/subscriptions/s1/resourceGroups/rg/providers/microsoft.policyinsights/REMEDIATIONS/r1") == (
        "remediation",
        {"scope": "/subscriptions/s1/resourceGroups/rg", "name": "r1"},
    )
    assert select("/subscriptions/s1/resourceGroups/rg")[0] == "generic"


def test_api_version_missing_or_unsupported_is_an_arm_400():
    provider = next(r for r in ROUTES if r.name == "provider")
    with pytest.raises(ArmError) as missing:
        check_api_version(provider, request())
    with pytest.raises(ArmError) as wrong:
        check_api_version(provider, request(**{"api-version": "2020-01-01"}))
    check_api_version(provider, request(**{"api-version": "2025-04-01"}))
    assert (missing.value.status, missing.value.code) == (400, "MissingApiVersionParameter")
    assert (wrong.value.status, wrong.value.code) == (400, "InvalidApiVersionParameter")
    assert wrong.value.response().body["error"]["message"].endswith("The supported versions are '2025-04-01'.")


def test_paged_returns_next_links_until_the_end_and_honours_top():
    items = list(range(5))
    first = paged(request("/list", **{"api-version": "1"}), items, page_size=2)
    token = first.body["nextLink"].split("%24skiptoken=")[1]
    second = paged(request("/list", **{"api-version": "1", "$skiptoken": token}), items, page_size=2)
    topped = paged(request("/list", **{"$top": "3"}), items, page_size=10)
    assert first.body["value"] == [0, 1]
    assert first.body["nextLink"].startswith("https://h:1/list?api-version=1&")
    assert second.body["value"] == [2, 3]
    assert topped.body == {"value": [0, 1, 2]}
    with pytest.raises(ArmError):
        decode_skip_token("not-a-token")


def test_countdowns_tick_per_poll_and_report_remaining():
    seen: list[int] = []
    countdowns = Countdowns()
    countdowns.start("Thing", 3, seen.append)
    done = [countdowns.poll("thing") for _ in range(4)]
    assert seen == [2, 1, 0]
    assert done == [False, False, True, True]


def test_long_running_operation_completes_after_the_configured_polls():
    state = EmulatorState("t")
    calls: list[str] = []

    def complete() -> OperationOutcome:
        calls.append("done")
        return OperationOutcome(result={"ok": True})

    response = long_running(state, request(**{"api-version": "2024-07-01"}), complete=complete, polls=2)
    operation_id = response.headers["Azure-AsyncOperation"].split("/operationStatuses/")[1].split("?")[0]
    assert response.status == 202
    assert response.headers["Location"].startswith("https://h:1/providers/Microsoft.Emulator/operationResults/")
    assert state.countdowns.poll("operation:" + operation_id) is False
    assert state.operations[operation_id].status == "InProgress"
    assert state.countdowns.poll("operation:" + operation_id) is True
    assert state.operations[operation_id].status == "Succeeded"
    assert calls == ["done"]
