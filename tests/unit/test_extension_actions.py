"""assess-patches' waiting logic on answers the emulator does not give (Location only, sync 200)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import pytest

from remediator import ArmOperationError
from remediator.azure import ApplySettings
from remediator.azure.extension_actions import _wait

MACHINE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m"
FAST = ApplySettings(operation_timeout=2, lro_poll_interval=0.001)


class Answer:
    """Just enough of azure.core.rest.HttpResponse for the action."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self.content = json.dumps(body).encode() if body is not None else b""

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise AssertionError("the fake ARM answered an error the test did not expect")


class Arm:
    """A scripted ARM: answers GETs in order and records them."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = deque(answers)
        self.urls: list[str] = []
        self.settings = FAST

    def resources(self, subscription: str) -> Arm:
        return self

    def send_request(self, request: Any) -> Answer:
        self.urls.append(request.url)
        return self.answers.popleft()


def test_a_synchronous_200_is_the_result() -> None:
    arm = Arm()
    assert _wait(arm, MACHINE, Answer(200, {"status": "Succeeded"})) == {"status": "Succeeded"}  # type: ignore[arg-type]
    assert arm.urls == []


def test_location_alone_is_polled_until_it_stops_answering_202() -> None:
    arm = Arm(Answer(202), Answer(202), Answer(200, {"status": "Succeeded", "assessmentActivityId": "a"}))
    started = Answer(202, headers={"Location": "https://arm/operationResults/1"})
    assert _wait(arm, MACHINE, started)["assessmentActivityId"] == "a"  # type: ignore[arg-type]
    assert arm.urls == ["https://arm/operationResults/1"] * 3


def test_the_status_output_is_used_when_the_operation_carries_it() -> None:
    output = {"status": "Succeeded", "assessmentActivityId": "b"}
    arm = Arm(
        Answer(200, {"status": "InProgress"}), Answer(200, {"status": "Succeeded", "properties": {"output": output}})
    )
    started = Answer(202, headers={"Azure-AsyncOperation": "https://arm/status/1", "Location": "https://arm/result/1"})
    assert _wait(arm, MACHINE, started) == output  # type: ignore[arg-type]
    assert arm.urls == ["https://arm/status/1"] * 2


def test_a_failed_operation_raises_its_error_code() -> None:
    arm = Arm(Answer(200, {"status": "Failed", "error": {"code": "VMAgentStatusCommunicationError", "message": "x"}}))
    started = Answer(202, headers={"Azure-AsyncOperation": "https://arm/status/1"})
    with pytest.raises(ArmOperationError) as failed:
        _wait(arm, MACHINE, started)  # type: ignore[arg-type]
    assert failed.value.code == "VMAgentStatusCommunicationError"
