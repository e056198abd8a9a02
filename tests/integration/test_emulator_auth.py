"""The emulator as token authority: azure-identity's own credential over HTTPS, and ARM's 401s."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.subscriptions import SubscriptionClient

TENANT = "aaaaaaaa-0000-4000-8000-000000000001"
SUB = "bbbbbbbb-0000-4000-8000-000000000001"
ESTATE = {"tenantId": TENANT, "subscriptions": [{"subscriptionId": SUB, "displayName": "one"}]}


def test_client_secret_credential_gets_a_token_and_reads_subscriptions(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    credential = served.credential()

    token = credential.get_token(f"{served.endpoint.url}/.default")
    client = SubscriptionClient(credential, **served.client_kwargs())

    assert token.token.count(".") == 2
    assert [s.subscription_id for s in client.subscriptions.list()] == [SUB]
    paths = [(e.method, e.path) for e in served.emulator.request_log]
    assert ("GET", f"/{TENANT}/v2.0/.well-known/openid-configuration") in paths
    assert ("POST", f"/{TENANT}/oauth2/v2.0/token") in paths


def test_wrong_client_secret_is_refused(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    credential = ClientSecretCredential(
        TENANT,
        served.endpoint.client_id,
        "not-the-secret",
        authority=served.endpoint.authority,
        disable_instance_discovery=True,
        connection_verify=served.endpoint.ca_path,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token(f"{served.endpoint.url}/.default")


def test_arm_request_without_token_gets_401_with_arm_error_body(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    response = requests.get(
        f"{served.endpoint.url}/subscriptions/{SUB}",
        params={"api-version": "2022-12-01"},
        verify=served.endpoint.ca_path,
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AuthenticationFailed"


def test_forged_token_gets_401_invalid_authentication_token(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    real = served.credential().get_token(f"{served.endpoint.url}/.default").token
    header, claims, _signature = real.split(".")
    response = requests.get(
        f"{served.endpoint.url}/subscriptions",
        params={"api-version": "2022-12-01"},
        headers={"Authorization": f"Bearer {header}.{claims}.AAAA"},
        verify=served.endpoint.ca_path,
        timeout=10,
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "InvalidAuthenticationToken", "message": "The access token is invalid."}
    }


def test_the_sdk_with_a_bad_credential_surfaces_the_auth_failure(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    credential = ClientSecretCredential(
        TENANT,
        "00000000-0000-4000-8000-00000000dead",
        "whatever",
        authority=served.endpoint.authority,
        disable_instance_discovery=True,
        connection_verify=served.endpoint.ca_path,
    )
    client = SubscriptionClient(credential, **served.client_kwargs())
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        list(client.subscriptions.list())
    assert not [e for e in served.emulator.request_log if e.path == "/subscriptions"]


def test_endpoint_env_points_a_separate_process_at_the_emulator(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    env = served.endpoint.env()
    assert env["REMEDIATOR_ARM_ENDPOINT"] == served.endpoint.url
    assert env["AZURE_AUTHORITY_HOST"] == served.endpoint.url
    assert Path(env["REMEDIATOR_CA_BUNDLE"]).read_text(encoding="ascii").startswith("-----BEGIN CERTIFICATE-----")
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=env["REMEDIATOR_CA_BUNDLE"],
    )
    assert credential.get_token(f"{env['REMEDIATOR_ARM_ENDPOINT']}/.default").token


def test_subscription_get_and_locations(emulator_factory):
    served = emulator_factory(copy.deepcopy(ESTATE))
    client = SubscriptionClient(served.credential(), **served.client_kwargs())
    subscription = client.subscriptions.get(SUB)
    locations = {loc.name: loc.display_name for loc in client.subscriptions.list_locations(SUB)}
    tenants = [t.tenant_id for t in client.tenants.list()]
    assert (subscription.display_name, subscription.state, subscription.tenant_id) == ("one", "Enabled", TENANT)
    assert locations["westeurope"] == "West Europe"
    assert tenants == [TENANT]
