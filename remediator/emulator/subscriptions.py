"""Subscriptions and tenants, as ``azure-mgmt-resource-subscriptions`` reads them."""

from __future__ import annotations

from remediator.emulator import api_versions
from remediator.emulator.providers import require_subscription
from remediator.emulator.routing import Request, Response, Route, paged, route
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []


@route(ROUTES, "GET", "/subscriptions", api_versions=api_versions.SUBSCRIPTIONS, name="list_subscriptions")
def list_subscriptions(state: EmulatorState, request: Request) -> Response:
    return paged(request, list(state.subscriptions.values()), page_size=state.knobs.page_size)


@route(
    ROUTES, "GET", "/subscriptions/{subscriptionId}", api_versions=api_versions.SUBSCRIPTIONS, name="get_subscription"
)
def get_subscription(state: EmulatorState, request: Request) -> Response:
    return Response(200, require_subscription(state, request.params["subscriptionId"]))


@route(ROUTES, "GET", "/tenants", api_versions=api_versions.SUBSCRIPTIONS, name="list_tenants")
def list_tenants(state: EmulatorState, request: Request) -> Response:
    tenant = {"id": f"/tenants/{state.tenant_id}", "tenantId": state.tenant_id, "tenantCategory": "Home"}
    return paged(request, [tenant], page_size=state.knobs.page_size)
