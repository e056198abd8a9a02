"""ARM resolves the subscription before any resource provider: unknown, deleted and read-only ones."""

from __future__ import annotations

import uuid

import pytest

TENANT = "aaaaaaaa-0000-4000-8000-000000000031"
SUB = "cccccccc-0000-4000-8000-000000000031"
WARNED = "cccccccc-0000-4000-8000-000000000032"
DISABLED = "cccccccc-0000-4000-8000-000000000033"
DELETED = "cccccccc-0000-4000-8000-000000000034"
PAST_DUE = "cccccccc-0000-4000-8000-000000000035"
MISSING = "cccccccc-0000-4000-8000-0000000000ff"
ROLES = "2022-04-01"
POLICY = "2023-04-01"
STATES = "2019-10-01"
REMEDIATIONS = "2021-10-01"
RESOURCES = "2021-04-01"
AUTH = "/providers/Microsoft.Authorization"
INSIGHTS = "/providers/Microsoft.PolicyInsights"


def estate() -> dict:
    return {
        "tenantId": TENANT,
        "subscriptions": [
            {"subscriptionId": SUB},
            {"subscriptionId": WARNED, "state": "Warned"},
            {"subscriptionId": DISABLED, "state": "Disabled"},
            {"subscriptionId": DELETED, "state": "Deleted"},
            {"subscriptionId": PAST_DUE, "state": "PastDue"},
        ],
        "resources": [
            {"id": f"/subscriptions/{sub}/resourceGroups/rg", "location": "westeurope"}
            for sub in (SUB, WARNED, DISABLED, PAST_DUE)
        ],
    }


@pytest.fixture
def served(emulator_factory):
    return emulator_factory(estate(), lro_polls=0, provider_registration_polls=1)


def requests_under(sub: str) -> list[tuple[str, str, dict[str, str]]]:
    """Requests whose routes each give their own not-found answer for a missing resource."""
    assignment = f"/subscriptions/{sub}{AUTH}/policyAssignments/a1"
    definition = f"/subscriptions/{sub}{AUTH}/policyDefinitions/d1"
    role_assignment = f"/subscriptions/{sub}{AUTH}/roleAssignments/{uuid.UUID(int=1)}"
    remediation = f"/subscriptions/{sub}{INSIGHTS}/remediations/r1"
    return [
        ("GET", role_assignment, {"api-version": ROLES}),
        ("DELETE", role_assignment, {"api-version": ROLES}),
        ("GET", assignment, {"api-version": POLICY}),
        ("GET", remediation, {"api-version": REMEDIATIONS}),
        ("DELETE", remediation, {"api-version": REMEDIATIONS}),
        ("POST", f"{assignment}{INSIGHTS}/policyStates/latest/queryResults", {"api-version": STATES}),
        ("POST", f"{definition}{INSIGHTS}/policyStates/latest/queryResults", {"api-version": STATES}),
        ("GET", f"/subscriptions/{sub}/resourcegroups/rg", {"api-version": RESOURCES}),
        ("GET", f"/subscriptions/{sub}/providers/Microsoft.Nowhere/things/x", {"api-version": RESOURCES}),
    ]


@pytest.mark.parametrize("sub", [MISSING, DELETED])
def test_every_route_under_a_subscription_the_tenant_lacks_is_subscription_not_found(served, sub):
    for method, path, params in requests_under(sub):
        answer = served.arm(method, path, params=params)
        assert (method, path, answer.status_code, answer.json()) == (
            method,
            path,
            404,
            {"error": {"code": "SubscriptionNotFound", "message": f"The subscription '{sub}' could not be found."}},
        )


def test_the_check_comes_before_the_api_version_check(served):
    answer = served.arm("GET", f"/subscriptions/{MISSING}{AUTH}/policyAssignments/a1", params={"api-version": "1999"})
    assert answer.json()["error"]["code"] == "SubscriptionNotFound"


def test_known_subscriptions_keep_their_routes_and_the_token_endpoints_work(served):
    # The same requests under a subscription the tenant has reach their routes' own answers.
    codes = {
        (method, path.split("/providers/")[-1]): served.arm(method, path, params=params).status_code
        for method, path, params in requests_under(SUB)
    }
    assert codes[("GET", f"Microsoft.Authorization/roleAssignments/{uuid.UUID(int=1)}")] == 404
    assert codes[("DELETE", f"Microsoft.Authorization/roleAssignments/{uuid.UUID(int=1)}")] == 204
    assert codes[("POST", "Microsoft.PolicyInsights/policyStates/latest/queryResults")] == 200
    assert served.arm("GET", f"/subscriptions/{SUB}/resourcegroups/rg", params={"api-version": RESOURCES}).ok
    register = served.arm(
        "POST", f"/subscriptions/{SUB}/providers/Microsoft.Maintenance/register", params={"api-version": RESOURCES}
    )
    assert register.status_code == 200
    assert register.json()["namespace"] == "Microsoft.Maintenance"
    # Reaching here at all needed the OpenID and token endpoints (served.arm gets a token first).
    listed = served.arm("GET", "/subscriptions", params={"api-version": "2022-12-01"}).json()["value"]
    assert {s["subscriptionId"] for s in listed} >= {SUB, WARNED, DISABLED, PAST_DUE}


@pytest.mark.parametrize("sub", [WARNED, DISABLED])
def test_warned_and_disabled_subscriptions_are_read_only(served, sub):
    group = f"/subscriptions/{sub}/resourcegroups/rg"
    tags = {"api-version": RESOURCES}
    assert served.arm("GET", group, params=tags).status_code == 200
    for method, path, body in [
        ("PUT", f"/subscriptions/{sub}/resourcegroups/rg2", {"location": "westeurope"}),
        ("PATCH", group, {"tags": {"a": "b"}}),
        ("POST", f"/subscriptions/{sub}/providers/Microsoft.Maintenance/register", None),
    ]:
        answer = served.arm(method, path, params=tags, json=body)
        assert answer.status_code == 409, (method, path)
        assert answer.json()["error"]["code"] == "ReadOnlyDisabledSubscription"
        assert sub in answer.json()["error"]["message"]
    assert served.emulator.get(f"/subscriptions/{sub}/resourcegroups/rg2") is None
    assert (served.emulator.get(group) or {}).get("tags") != {"a": "b"}
    # Deletes still work in a read-only subscription.
    assert served.arm("DELETE", group, params=tags).status_code in (200, 202, 204)


def test_a_past_due_subscription_keeps_full_access(served):
    answer = served.arm(
        "PUT",
        f"/subscriptions/{PAST_DUE}/resourcegroups/rg2",
        params={"api-version": RESOURCES},
        json={"location": "westeurope"},
    )
    assert answer.status_code in (200, 201)
    assert served.emulator.get(f"/subscriptions/{PAST_DUE}/resourcegroups/rg2") is not None
