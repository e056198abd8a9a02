"""Resource providers through ResourceManagementClient (azure-mgmt-resource 26, api 2025-04-01)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.resources import ResourceManagementClient

TENANT = "aaaaaaaa-0000-4000-8000-000000000002"
ARC = "bbbbbbbb-0000-4000-8000-0000000000a1"
BRANCH = "bbbbbbbb-0000-4000-8000-0000000000a2"
MISSING = "bbbbbbbb-0000-4000-8000-0000000000ff"


def estate() -> dict:
    return {
        "tenantId": TENANT,
        "subscriptions": [
            {"subscriptionId": ARC, "providers": {"Microsoft.Compute": "NotRegistered"}},
            {"subscriptionId": BRANCH, "providers": {"Microsoft.Compute": "Registering"}},
        ],
    }


def client(served, subscription: str) -> ResourceManagementClient:
    return ResourceManagementClient(served.credential(), subscription, **served.client_kwargs())


def test_register_moves_through_registering_to_registered_over_polls(emulator_factory):
    served = emulator_factory(estate(), provider_registration_polls=3)
    providers = client(served, ARC).providers

    before = providers.get("Microsoft.Compute").registration_state
    registered = providers.register("Microsoft.Compute").registration_state
    seen = [providers.get("Microsoft.Compute").registration_state for _ in range(4)]

    assert before == "NotRegistered"
    assert registered == "Registering"
    assert seen == ["Registering", "Registering", "Registered", "Registered"]
    assert served.emulator.provider_state(ARC, "microsoft.compute") == "Registered"


def test_a_provider_the_estate_shows_registering_finishes_without_a_register_call(emulator_factory):
    served = emulator_factory(estate(), provider_registration_polls=2)
    providers = client(served, BRANCH).providers
    states = [providers.get("Microsoft.Compute").registration_state for _ in range(2)]
    assert states == ["Registering", "Registered"]
    assert not [e for e in served.emulator.request_log if e.path.endswith("/register")]


def test_unlisted_namespace_is_registered_and_listed(emulator_factory):
    served = emulator_factory(estate())
    providers = client(served, ARC).providers
    assert providers.get("Microsoft.Maintenance").registration_state == "Registered"
    listed = {p.namespace: p.registration_state for p in providers.list()}
    assert listed["Microsoft.Compute"] == "NotRegistered"
    assert listed["Microsoft.HybridCompute"] == "Registered"


def test_unregister_goes_through_unregistering(emulator_factory):
    served = emulator_factory(estate(), provider_registration_polls=1)
    providers = client(served, ARC).providers
    assert providers.unregister("Microsoft.Maintenance").registration_state == "Unregistering"
    assert providers.get("Microsoft.Maintenance").registration_state == "Unregistered"


def test_unknown_subscription_is_404_subscription_not_found(emulator_factory):
    served = emulator_factory(estate())
    with pytest.raises(ResourceNotFoundError) as caught:
        client(served, MISSING).providers.get("Microsoft.Compute")
    assert caught.value.error.code == "SubscriptionNotFound"


def test_unsupported_api_version_is_refused_with_arm_error(emulator_factory):
    served = emulator_factory(estate())
    rm = ResourceManagementClient(served.credential(), ARC, api_version="2019-01-01", **served.client_kwargs())
    with pytest.raises(HttpResponseError) as caught:
        rm.providers.get("Microsoft.Compute")
    assert caught.value.status_code == 400
    assert caught.value.error.code == "InvalidApiVersionParameter"
    assert "2025-04-01" in caught.value.error.message


def test_resource_provider_operation_catalogues(emulator_factory):
    from azure.mgmt.policyinsights import PolicyInsightsClient
    from azure.mgmt.resourcegraph import ResourceGraphClient

    served = emulator_factory(estate())
    graph_ops = [o.name for o in ResourceGraphClient(served.credential(), **served.client_kwargs()).operations.list()]
    policy = PolicyInsightsClient(served.credential(), ARC, **served.client_kwargs()).operations.list()
    assert "Microsoft.ResourceGraph/resources/read" in graph_ops
    assert policy.odata_count == len(policy.value)
    assert "Microsoft.PolicyInsights/remediations/write" in [o.name for o in policy.value]

    old = served.arm("GET", "/providers/Microsoft.PolicyInsights/operations", params={"api-version": "1999-01-01"})
    unknown = served.arm("GET", "/providers/Microsoft.Nope/operations", params={"api-version": "2021-01-01"})
    assert (old.status_code, old.json()["error"]["code"]) == (400, "InvalidApiVersionParameter")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "InvalidResourceType")
