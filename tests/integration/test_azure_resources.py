"""Generic resource reads and writes (remediator.azure.arm_resources) through the real SDK."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from remediator.azure import ApplySettings, AzureBackend, delete_resource, get_json, patch_json, put_json
from remediator.emulator import Emulator
from remediator.errors import ArmOperationError

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB = "00000000-0000-0000-0000-0000000000d1"
DISK = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/disks/disk1"
API = "2024-03-01"
FAST = ApplySettings(operation_timeout=30.0, lro_poll_interval=0.01, conflict_poll_interval=0.02)


def estate(**knobs: Any) -> dict[str, Any]:
    return {
        "tenantId": TENANT,
        "subscriptions": [{"subscriptionId": SUB}],
        "resources": [
            {
                "id": f"/subscriptions/{SUB}/resourceGroups/rg1",
                "type": "Microsoft.Resources/resourceGroups",
                "name": "rg1",
                "location": "westeurope",
            },
            {
                "id": DISK,
                "name": "disk1",
                "type": "Microsoft.Compute/disks",
                "location": "westeurope",
                "tags": {"owner": "ops"},
                "properties": {"diskSizeGB": 64, "encryption": {"type": "EncryptionAtRestWithPlatformKey"}},
            },
        ],
        **({"emulator": knobs} if knobs else {}),
    }


@pytest.fixture
def served() -> Iterator[Any]:
    with ExitStack() as stack:

        def start(doc: dict[str, Any], settings: ApplySettings = FAST) -> tuple[Emulator, AzureBackend]:
            emu = Emulator.load(doc)
            backend = AzureBackend.for_endpoint(stack.enter_context(emu.serve(port=0)), settings)
            stack.callback(backend.close)
            return emu, backend

        yield start


def test_get_returns_arms_json_and_none_when_absent(served: Any) -> None:
    _, backend = served(estate())

    disk = get_json(backend.clients, DISK, API)
    assert disk is not None and disk["properties"]["diskSizeGB"] == 64 and disk["tags"] == {"owner": "ops"}
    assert get_json(backend.clients, DISK.replace("disk1", "nope"), API) is None


def test_patch_waits_for_the_operation_and_returns_the_result(served: Any) -> None:
    emu, backend = served(estate(lroPolls=3))

    result = patch_json(backend.clients, DISK, API, {"tags": {"owner": "platform"}})

    assert result["tags"] == {"owner": "platform"}
    assert emu.get(DISK)["tags"] == {"owner": "platform"}
    assert emu.get(DISK)["properties"]["provisioningState"] == "Succeeded"


def test_put_and_delete_round_trip(served: Any) -> None:
    emu, backend = served(estate())
    new_disk = DISK.replace("disk1", "disk2")

    put_json(backend.clients, new_disk, API, {"location": "westeurope", "properties": {"diskSizeGB": 32}})
    assert emu.get(new_disk)["properties"]["diskSizeGB"] == 32

    assert delete_resource(backend.clients, new_disk, API) is True
    assert emu.get(new_disk) is None
    assert get_json(backend.clients, new_disk, API) is None


def test_an_operation_that_outlasts_the_timeout_is_an_arm_operation_error(served: Any) -> None:
    slow = dataclasses.replace(FAST, operation_timeout=0.3, lro_poll_interval=0.05)
    _, backend = served(estate(lroPolls=100000), slow)

    with pytest.raises(ArmOperationError) as raised:
        patch_json(backend.clients, DISK, API, {"tags": {"owner": "platform"}})

    assert raised.value.code == "OperationTimedOut"


def test_another_operation_in_progress_is_waited_out(served: Any) -> None:
    busy = {"route": "/disks/disk1", "method": "PATCH", "status": 409, "code": "AnotherOperationInProgress", "count": 2}
    emu, backend = served(estate(faults=[busy]))

    patch_json(backend.clients, DISK, API, {"tags": {"owner": "platform"}})

    patches = [e.status for e in emu.request_log if e.method == "PATCH"]
    assert patches[:2] == [409, 409] and patches[2] in (200, 202)
    assert emu.get(DISK)["tags"] == {"owner": "platform"}
