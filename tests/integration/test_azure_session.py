"""Credentials, auth failures and the retry layers, against the emulator over HTTPS."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.identity import CredentialUnavailableError

from remediator.azure import (
    PRINCIPAL_NOT_FOUND,
    ApplySettings,
    ArmSession,
    AzureBackend,
    arm_errors,
    call_with_retry,
)
from remediator.azure.provider_actions import provider_state
from remediator.emulator import Emulator
from remediator.errors import ArmOperationError, AzureAccessError
from remediator.model import Scope
from remediator.playbook import Needs

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB = "00000000-0000-0000-0000-0000000000c1"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1"
FAST = ApplySettings(
    http_retry_backoff_factor=0.01,
    principal_propagation_timeout=30.0,
    principal_poll_interval=0.02,
)


def estate(*faults: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "tenantId": TENANT,
        "subscriptions": [{"subscriptionId": SUB, "displayName": "prod"}],
        "resources": [
            {
                "id": f"/subscriptions/{SUB}/resourceGroups/rg1",
                "name": "rg1",
                "type": "Microsoft.Resources/resourceGroups",
                "location": "westeurope",
            },
            {
                "id": VM_ID,
                "name": "vm1",
                "type": "Microsoft.Compute/virtualMachines",
                "location": "westeurope",
                "properties": {"vmId": "0c6f5c0e-0000-0000-0000-000000000001"},
            },
        ],
    }
    if faults:
        doc["emulator"] = {"faults": list(faults)}
    return doc


@pytest.fixture
def serve() -> Iterator[Any]:
    """A function: estate dict -> (emulator, endpoint), served over HTTPS until teardown."""
    with ExitStack() as stack:

        def start(doc: dict[str, Any]) -> tuple[Emulator, Any]:
            emu = Emulator.load(doc)
            return emu, stack.enter_context(emu.serve(port=0))

        yield start


def requests_to(emu: Emulator, method: str, path_end: str) -> list[Any]:
    return [e for e in emu.request_log if e.method == method and e.path.lower().endswith(path_end.lower())]


def test_wrong_client_secret_is_a_one_line_access_error_without_the_secret(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _, ep = serve(estate())
    wrong = "s3cr3t-" + ep.client_secret[::-1]
    backend = AzureBackend.for_endpoint(dataclasses.replace(ep, client_secret=wrong))
    try:
        with pytest.raises(AzureAccessError) as raised:
            backend.read_estate(Scope(subscriptions=(SUB,)), Needs(), None)
    finally:
        backend.close()

    message = str(raised.value)
    assert message.startswith("Azure authentication failed")
    assert "\n" not in message
    assert wrong not in message and ep.client_secret not in message
    assert caplog.records, "debug logging was captured"
    assert wrong not in caplog.text and ep.client_secret not in caplog.text


class _NoCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        raise CredentialUnavailableError("no credential here\nsecond line")


class _BogusToken:
    token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJub2JvZHkifQ.c2lnbmF0dXJl"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, 4102444800)


def test_unavailable_credential_is_an_access_error(serve: Any) -> None:
    _, ep = serve(estate())
    backend = AzureBackend(ArmSession.create(ep.url, ep.ca_path, _NoCredential()))
    try:
        with pytest.raises(AzureAccessError) as raised:
            backend.read_estate(Scope(), Needs(), None)
    finally:
        backend.close()
    assert str(raised.value) == "Azure authentication failed: no credential here"


def test_token_refused_by_arm_is_an_access_error_without_the_token(
    serve: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    emu, ep = serve(estate())
    backend = AzureBackend(ArmSession.create(ep.url, ep.ca_path, _BogusToken()))
    try:
        with pytest.raises(AzureAccessError) as raised:
            backend.read_estate(Scope(), Needs(), None)
    finally:
        backend.close()
    assert _BogusToken.token not in str(raised.value)
    assert "\n" not in str(raised.value)
    assert caplog.records and _BogusToken.token not in caplog.text
    assert any(e.status == 401 for e in emu.request_log)


def test_environment_credential_through_default_azure_credential(serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, ep = serve(estate())
    monkeypatch.setenv("AZURE_TENANT_ID", ep.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_ID", ep.client_id)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", ep.client_secret)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", ep.authority)
    backend = AzureBackend.create(ep.url, str(ep.ca_path))
    try:
        estate_ = backend.read_estate(Scope(), Needs(), None)
    finally:
        backend.close()
    assert [s.subscription_id for s in estate_.subscriptions] == [SUB]


def test_missing_subscription_registration_surfaces_instead_of_auto_registering(serve: Any) -> None:
    fault = {
        "route": "/virtualMachines/vm1",
        "method": "GET",
        "status": 409,
        "code": "MissingSubscriptionRegistration",
        "message": "The subscription is not registered to use namespace 'Microsoft.Compute'.",
    }
    emu, ep = serve(estate(fault))
    backend = AzureBackend.for_endpoint(ep, FAST)
    try:
        with pytest.raises(ArmOperationError) as raised, arm_errors():
            backend.clients.resources(SUB).resources.get_by_id(VM_ID, api_version="2024-07-01")
    finally:
        backend.close()
    assert raised.value.code == "MissingSubscriptionRegistration"
    # The SDK's own policy would have POSTed .../register and polled forever.
    assert requests_to(emu, "POST", "/providers/Microsoft.Compute/register") == []


def test_transient_server_errors_are_retried_by_azure_core(serve: Any) -> None:
    fault = {"route": "/virtualMachines/vm1", "method": "GET", "status": 503, "code": "ServerBusy", "count": 2}
    emu, ep = serve(estate(fault))
    backend = AzureBackend.for_endpoint(ep, FAST)
    try:
        with arm_errors():
            vm = backend.clients.resources(SUB).resources.get_by_id(VM_ID, api_version="2024-07-01")
    finally:
        backend.close()
    assert vm.name == "vm1"
    assert [e.status for e in requests_to(emu, "GET", "/virtualMachines/vm1")] == [503, 503, 200]


def test_principal_not_found_is_retried_by_its_rule(serve: Any) -> None:
    fault = {
        "route": "/providers/Microsoft.Maintenance",
        "method": "GET",
        "status": 400,
        "code": "PrincipalNotFound",
        "count": 2,
    }
    emu, ep = serve(estate(fault))
    backend = AzureBackend.for_endpoint(ep, FAST)
    try:
        state = call_with_retry(
            PRINCIPAL_NOT_FOUND, FAST, provider_state, backend.clients, SUB, "Microsoft.Maintenance"
        )
    finally:
        backend.close()
    assert state == "Registered"
    assert [e.status for e in requests_to(emu, "GET", "/providers/Microsoft.Maintenance")] == [400, 400, 200]


def test_a_rule_that_runs_out_of_time_reraises_arms_error(serve: Any) -> None:
    fault = {"route": "/providers/Microsoft.Maintenance", "method": "GET", "status": 400, "code": "PrincipalNotFound"}
    _, ep = serve(estate(fault))
    short = dataclasses.replace(FAST, principal_propagation_timeout=0.2, principal_poll_interval=0.05)
    backend = AzureBackend.for_endpoint(ep, short)
    try:
        with pytest.raises(ArmOperationError) as raised:
            call_with_retry(PRINCIPAL_NOT_FOUND, short, provider_state, backend.clients, SUB, "Microsoft.Maintenance")
    finally:
        backend.close()
    assert raised.value.code == "PrincipalNotFound"


def test_throttled_reads_wait_for_retry_after_and_succeed(serve: Any) -> None:
    doc = estate()
    doc["subscriptions"][0]["providers"] = {"Microsoft.Compute": "NotRegistered"}
    doc["emulator"] = {"throttling": True, "readsBurst": 2, "readsPerSecond": 2}
    emu, ep = serve(doc)
    namespaces = frozenset(
        {"Microsoft.Compute", "Microsoft.Maintenance", "Microsoft.HybridCompute", "Microsoft.GuestConfiguration"}
    )
    backend = AzureBackend.for_endpoint(ep, FAST)
    try:
        found = backend.read_estate(Scope(subscriptions=(SUB,)), Needs(providers=namespaces), None)
    finally:
        backend.close()

    sub = found.subscription(SUB)
    assert sub is not None and sub.provider_state("Microsoft.Compute") == "NotRegistered"
    assert sub.provider_state("Microsoft.Maintenance") == "Registered"
    provider_reads = [
        e.status for e in emu.request_log if "/providers/microsoft." in e.path.lower() and e.method == "GET"
    ]
    assert 429 in provider_reads  # the emulator did throttle, and azure-core waited it out
    assert provider_reads.count(200) == len(namespaces)
