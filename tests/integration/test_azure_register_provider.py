"""register-provider end to end: real SDK clients over HTTPS against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from remediator.azure import ApplySettings, AzureBackend, get_action
from remediator.emulator import Emulator
from remediator.errors import ArmOperationError
from remediator.model import Change, fingerprint

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB = "00000000-0000-0000-0000-0000000000a1"
FAST = ApplySettings(provider_registration_timeout=30.0, provider_poll_interval=0.02, http_retry_backoff_factor=0.01)


def estate(providers: dict[str, str], **knobs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tenantId": TENANT,
        "subscriptions": [{"subscriptionId": SUB, "displayName": "prod", "providers": providers}],
        "resources": [],
    }
    if knobs:
        out["emulator"] = knobs
    return out


def register_change(before: str, namespace: str = "Microsoft.Compute") -> Change:
    return Change(
        finding_id="f-test",
        playbook="arc-compute-provider",
        resource_id=f"/subscriptions/{SUB}/providers/{namespace}",
        action="register-provider",
        before={"registrationState": before},
        after={"registrationState": "Registered"},
    )


def register_posts(emu: Emulator, namespace: str = "Microsoft.Compute") -> list[Any]:
    suffix = f"/providers/{namespace}/register".lower()
    return [e for e in emu.request_log if e.method == "POST" and e.path.lower().endswith(suffix)]


@pytest.fixture
def served() -> Iterator[Any]:
    """A function: estate dict (+ settings) -> (emulator, backend), served over HTTPS until teardown."""
    with ExitStack() as stack:

        def start(estate_doc: dict[str, Any], settings: ApplySettings = FAST) -> tuple[Emulator, AzureBackend]:
            emu = Emulator.load(estate_doc)
            endpoint = stack.enter_context(emu.serve(port=0))
            backend = AzureBackend.for_endpoint(endpoint, settings)
            stack.callback(backend.close)
            return emu, backend

        yield start


def test_not_registered_is_registered_and_waited_for(served: Any) -> None:
    emu, backend = served(estate({"Microsoft.Compute": "NotRegistered"}))
    change = register_change("NotRegistered")

    assert fingerprint(backend.read_state(change)) == change.fingerprint  # not stale
    detail = backend.execute(change)

    assert emu.provider_state(SUB, "Microsoft.Compute") == "Registered"
    assert backend.read_state(change) == {"registrationState": "Registered"}
    assert len(register_posts(emu)) == 1
    assert "Microsoft.Compute" in detail


def test_registering_provider_is_waited_for_not_registered_again(served: Any) -> None:
    emu, backend = served(estate({"Microsoft.Compute": "Registering"}))
    change = register_change("Registering")

    backend.execute(change)

    assert emu.provider_state(SUB, "Microsoft.Compute") == "Registered"
    assert register_posts(emu) == []


def test_registered_provider_reads_registered_and_is_left_alone(served: Any) -> None:
    emu, backend = served(estate({"Microsoft.Compute": "Registered"}))
    change = register_change("NotRegistered")

    state = backend.read_state(change)
    assert state == {"registrationState": "Registered"}
    assert fingerprint(state) != change.fingerprint  # a plan made against NotRegistered is stale
    assert "already Registered" in backend.execute(change)
    assert register_posts(emu) == []


def test_bounded_wait_times_out_with_arm_operation_error(served: Any) -> None:
    slow = ApplySettings(provider_registration_timeout=0.3, provider_poll_interval=0.05)
    emu, backend = served(estate({"Microsoft.Compute": "NotRegistered"}, providerRegistrationPolls=100000), slow)

    with pytest.raises(ArmOperationError) as raised:
        backend.execute(register_change("NotRegistered"))

    assert raised.value.code == "ProviderRegistrationTimeout"
    assert "Registering" in raised.value.detail
    assert emu.provider_state(SUB, "Microsoft.Compute") == "Registering"


def test_register_refused_by_arm_carries_arm_error_code(served: Any) -> None:
    fault = {"route": "/providers/Microsoft.Compute/register", "status": 403, "code": "AuthorizationFailed"}
    emu, backend = served(estate({"Microsoft.Compute": "NotRegistered"}, faults=[fault]))

    with pytest.raises(ArmOperationError) as raised:
        backend.execute(register_change("NotRegistered"))

    assert raised.value.code == "AuthorizationFailed"
    assert emu.provider_state(SUB, "Microsoft.Compute") == "NotRegistered"


def test_register_provider_action_is_registered_with_its_permission() -> None:
    action = get_action("register-provider")
    assert action.permissions == ("*/register/action",)
