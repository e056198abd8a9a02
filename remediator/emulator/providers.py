"""Resource providers per subscription: get, list, register, unregister.

Registration takes time as in Azure: ``register`` moves NotRegistered/Unregistered to
Registering, and the provider reads Registered after ``provider_registration_polls`` GETs of it
(a knob, default 3). A provider the estate lists as Registering finishes the same way.
``unregister`` mirrors it through Unregistering to Unregistered.
"""

from __future__ import annotations

from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.routing import ArmError, Request, Response, Route, paged, route
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []

PROVIDER = "/subscriptions/{subscriptionId}/providers/{namespace}"

# Resource types served under each well-known namespace (what `providers get` lists).
KNOWN_TYPES: dict[str, tuple[str, ...]] = {
    "microsoft.compute": ("virtualMachines", "virtualMachines/extensions", "disks", "galleries", "images"),
    "microsoft.hybridcompute": ("machines", "machines/extensions"),
    "microsoft.maintenance": ("maintenanceConfigurations", "configurationAssignments", "applyUpdates"),
    "microsoft.policyinsights": ("policyStates", "remediations"),
    "microsoft.guestconfiguration": ("guestConfigurationAssignments",),
}
WELL_KNOWN = {
    "microsoft.compute": "Microsoft.Compute",
    "microsoft.hybridcompute": "Microsoft.HybridCompute",
    "microsoft.maintenance": "Microsoft.Maintenance",
    "microsoft.policyinsights": "Microsoft.PolicyInsights",
    "microsoft.guestconfiguration": "Microsoft.GuestConfiguration",
    "microsoft.resources": "Microsoft.Resources",
    "microsoft.authorization": "Microsoft.Authorization",
    "microsoft.resourcegraph": "Microsoft.ResourceGraph",
}


def require_subscription(state: EmulatorState, subscription_id: str) -> dict[str, Any]:
    subscription = state.subscription(subscription_id)
    if subscription is None:
        raise ArmError(404, "SubscriptionNotFound", f"The subscription '{subscription_id}' could not be found.")
    return subscription


def provider_body(state: EmulatorState, subscription_id: str, namespace: str) -> dict[str, Any]:
    registration = state.provider_state(subscription_id, namespace)
    canonical = WELL_KNOWN.get(namespace.lower(), namespace)
    return {
        "id": f"/subscriptions/{subscription_id}/providers/{canonical}",
        "namespace": canonical,
        "registrationState": registration,
        "registrationPolicy": "RegistrationRequired",
        "resourceTypes": [
            {"resourceType": t, "locations": [], "apiVersions": list(api_versions_for(namespace, t))}
            for t in KNOWN_TYPES.get(namespace.lower(), ())
        ],
    }


def api_versions_for(namespace: str, resource_type: str) -> tuple[str, ...]:
    return api_versions.BY_TYPE.get(f"{namespace}/{resource_type}".lower(), ())


def _countdown_key(subscription_id: str, namespace: str) -> str:
    return f"provider:{subscription_id}/{namespace}".lower()


def start_transition(state: EmulatorState, subscription_id: str, namespace: str, final: str) -> None:
    """Begin Registering -> Registered (or Unregistering -> Unregistered) over a few polls."""

    def on_tick(remaining: int) -> None:
        if remaining == 0:
            state.set_provider_state(subscription_id, namespace, final)

    state.countdowns.start(_countdown_key(subscription_id, namespace), state.knobs.provider_registration_polls, on_tick)


def _observe(state: EmulatorState, subscription_id: str, namespace: str) -> None:
    state.countdowns.poll(_countdown_key(subscription_id, namespace))


@route(ROUTES, "GET", PROVIDER, api_versions=api_versions.RESOURCES, name="get_provider")
def get_provider(state: EmulatorState, request: Request) -> Response:
    subscription_id, namespace = request.params["subscriptionId"], request.params["namespace"]
    require_subscription(state, subscription_id)
    _observe(state, subscription_id, namespace)
    return Response(200, provider_body(state, subscription_id, namespace))


@route(
    ROUTES,
    "GET",
    "/subscriptions/{subscriptionId}/providers",
    api_versions=api_versions.RESOURCES,
    name="list_providers",
)
def list_providers(state: EmulatorState, request: Request) -> Response:
    subscription_id = request.params["subscriptionId"]
    require_subscription(state, subscription_id)
    names = {ns.lower(): ns for ns in WELL_KNOWN.values()}
    names.update({ns.lower(): ns for ns in state.listed_providers(subscription_id)})
    bodies = []
    for namespace in sorted(names.values(), key=str.lower):
        _observe(state, subscription_id, namespace)
        bodies.append(provider_body(state, subscription_id, namespace))
    return paged(request, bodies, page_size=state.knobs.page_size)


@route(ROUTES, "POST", PROVIDER + "/register", api_versions=api_versions.RESOURCES, name="register_provider")
def register_provider(state: EmulatorState, request: Request) -> Response:
    subscription_id, namespace = request.params["subscriptionId"], request.params["namespace"]
    require_subscription(state, subscription_id)
    current = state.provider_state(subscription_id, namespace)
    if current in ("NotRegistered", "Unregistered", "Unregistering"):
        state.set_provider_state(subscription_id, namespace, "Registering")
        start_transition(state, subscription_id, namespace, "Registered")
    return Response(200, provider_body(state, subscription_id, namespace))


@route(ROUTES, "POST", PROVIDER + "/unregister", api_versions=api_versions.RESOURCES, name="unregister_provider")
def unregister_provider(state: EmulatorState, request: Request) -> Response:
    subscription_id, namespace = request.params["subscriptionId"], request.params["namespace"]
    require_subscription(state, subscription_id)
    current = state.provider_state(subscription_id, namespace)
    if current in ("Registered", "Registering"):
        state.set_provider_state(subscription_id, namespace, "Unregistering")
        start_transition(state, subscription_id, namespace, "Unregistered")
    return Response(200, provider_body(state, subscription_id, namespace))
