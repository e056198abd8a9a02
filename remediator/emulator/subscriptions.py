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


# name -> (display name, geography group) for the regions estates commonly use.
LOCATIONS = {
    "eastus": ("East US", "US"),
    "eastus2": ("East US 2", "US"),
    "westus2": ("West US 2", "US"),
    "centralus": ("Central US", "US"),
    "northeurope": ("North Europe", "Europe"),
    "westeurope": ("West Europe", "Europe"),
    "uksouth": ("UK South", "UK"),
    "japaneast": ("Japan East", "Asia Pacific"),
    "southeastasia": ("Southeast Asia", "Asia Pacific"),
    "australiaeast": ("Australia East", "Australia"),
}


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/locations",
    api_versions=api_versions.SUBSCRIPTIONS,
    name="list_locations",
)
def list_locations(state: EmulatorState, request: Request) -> Response:
    subscription_id = request.params["subscriptionId"]
    require_subscription(state, subscription_id)
    names = dict(LOCATIONS)
    for resource in state.store:
        location = str(resource.get("location") or "").lower().replace(" ", "")
        if location and location not in names and location != "global":
            names[location] = (location, "Other")
    value = [
        {
            "id": f"/subscriptions/{subscription_id}/locations/{name}",
            "name": name,
            "type": "Region",
            "displayName": display,
            "regionalDisplayName": f"({group}) {display}",
            "metadata": {"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": group},
        }
        for name, (display, group) in sorted(names.items())
    ]
    return Response(200, {"value": value})
