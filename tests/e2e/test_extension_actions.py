"""The extension actions against the emulator through the real SDK pipeline: refusals, no-ops, bounds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from azure.core.rest import HttpRequest

from remediator import ArmOperationError, Change, UsageError
from remediator.azure import AzureBackend, put_json
from remediator.emulator import Emulator
from tests.data.extension.estates import SUB, arc, assessment, estate, patch_extension, vm
from tests.playbook_harness import FAST

RUNNING = vm("win-running")
STOPPED = vm("win-stopped", power="deallocated")
LOCKED = vm("win-locked", allow_extensions=False)
OFFLINE = arc("arc-offline", status="Disconnected")
ARC_NO_EXTENSIONS = arc("arc-no-extensions", extensions_enabled="false")
WINDOWS_PATCH = [{"publisher": "Microsoft.CPlat.Core", "type": "WindowsPatchExtension"}]


@contextmanager
def backend(*resources: dict[str, Any], **knobs: Any) -> Iterator[tuple[Emulator, AzureBackend]]:
    emulator = Emulator.load(estate(*resources), **knobs)
    with emulator.serve(port=0) as endpoint:
        azure = AzureBackend.for_endpoint(endpoint, FAST)
        try:
            yield emulator, azure
        finally:
            azure.close()


def _assess(machine: dict[str, Any], extensions: list[dict[str, str]] | None = None) -> Change:
    return Change(
        finding_id="f-test",
        playbook="update-extension",
        resource_id=machine["id"],
        action="assess-patches",
        before={"updateExtensionsSucceeded": False},
        after={"updateExtensionsSucceeded": True},
        params={"extensions": extensions if extensions is not None else WINDOWS_PATCH},
    )


def _delete(extension_id: str) -> Change:
    return Change(
        finding_id="f-test",
        playbook="update-extension",
        resource_id=extension_id,
        action="delete-extension",
        before={"exists": True, "provisioningState": "Failed"},
        after={"exists": False},
    )


@pytest.mark.parametrize(
    ("machine", "message"),
    [
        (STOPPED, "not running"),
        (LOCKED, "allowExtensionOperations"),
        (OFFLINE, "Disconnected"),
        (ARC_NO_EXTENSIONS, "disabled"),
    ],
)
def test_assessment_is_refused_where_extensions_cannot_run(machine: dict[str, Any], message: str) -> None:
    with backend(machine) as (_, azure), pytest.raises(ArmOperationError) as refused:
        azure.execute(_assess(machine))
    assert refused.value.code == "OperationNotAllowed"
    assert message in str(refused.value)


def test_extension_writes_are_refused_on_a_locked_vm() -> None:
    with backend(LOCKED) as (emulator, azure):
        body = {"location": "westeurope", "properties": {"publisher": "Contoso", "type": "Tool"}}
        with pytest.raises(ArmOperationError) as refused:
            put_json(azure.clients, f"{LOCKED['id']}/extensions/tool", "2024-07-01", body)
        assert refused.value.code == "OperationNotAllowed"
        assert emulator.get(f"{LOCKED['id']}/extensions/tool") is None


def test_assessment_installs_the_extension_and_reads_back_succeeded() -> None:
    with backend(RUNNING) as (emulator, azure):
        change = _assess(RUNNING)
        assert azure.read_state(change) == {"updateExtensionsSucceeded": False}
        detail = azure.execute(change)
        assert "Succeeded" in detail
        assert azure.read_state(change) == {"updateExtensionsSucceeded": True}
        latest = emulator.get(f"{RUNNING['id']}/patchAssessmentResults/latest")
        assert latest is not None and latest["properties"]["status"] == "Succeeded"
        assert latest["name"] == latest["properties"]["assessmentActivityId"]


def test_deleting_an_extension_that_is_already_gone_is_a_no_op() -> None:
    failed = patch_extension(RUNNING, "Failed")
    with backend(RUNNING, failed) as (emulator, azure):
        change = _delete(failed["id"])
        assert azure.read_state(change) == {"exists": True, "provisioningState": "Failed"}
        assert "removed" in azure.execute(change)
        assert emulator.get(failed["id"]) is None
        assert azure.read_state(change) == {"exists": False, "provisioningState": None}
        assert "already gone" in azure.execute(change)


def test_a_long_assessment_is_waited_for_within_the_operation_timeout_only() -> None:
    emulator = Emulator.load(estate(RUNNING), lro_polls=10_000)
    with emulator.serve(port=0) as endpoint:
        azure = AzureBackend.for_endpoint(endpoint, replace(FAST, operation_timeout=0.3))
        try:
            with pytest.raises(ArmOperationError) as timed_out:
                azure.execute(_assess(RUNNING))
        finally:
            azure.close()
    assert timed_out.value.code == "OperationTimedOut"


def test_actions_refuse_ids_they_do_not_handle() -> None:
    with backend(RUNNING) as (_, azure):
        with pytest.raises(UsageError):
            azure.execute(_assess({"id": f"/subscriptions/{SUB}/resourceGroups/rg-app"}))
        with pytest.raises(UsageError):
            azure.execute(_assess(RUNNING, extensions=[]))
        wrong = replace(_delete(RUNNING["id"]), action="set-allow-extension-operations")
        with pytest.raises(UsageError):
            azure.execute(replace(wrong, resource_id=f"{OFFLINE['id']}"))


def test_the_emulator_checks_the_assess_patches_api_version() -> None:
    with backend(RUNNING) as (_, azure):
        client = azure.clients.resources(SUB)
        response = client.send_request(HttpRequest("POST", f"{RUNNING['id']}/assessPatches?api-version=2015-06-15"))
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_machine_side_errors_come_back_in_the_result_whatever_their_shape() -> None:
    machine = arc("arc-listed")
    errors = [{"code": "E1", "message": "Failed to fetch http://repo"}, {"code": "E2", "message": "second"}]
    listed = assessment(machine, "Failed", errors, started_by="User")
    linux_update = [{"publisher": "Microsoft.SoftwareUpdateManagement", "type": "LinuxOsUpdateExtension"}]
    with backend(machine, listed) as (emulator, azure):
        detail = azure.execute(_assess(machine, linux_update))
        assert "Failed to fetch http://repo" in detail
        latest = emulator.get(f"{machine['id']}/patchAssessmentResults/latest")
        assert latest is not None
        assert latest["properties"]["status"] == "Failed"
        assert latest["properties"]["errorDetails"] == errors


def test_an_extension_still_in_an_operation_is_completed_not_duplicated() -> None:
    updating = patch_extension(RUNNING, "Updating", name="patching")
    with backend(RUNNING, updating) as (emulator, azure):
        azure.execute(_assess(RUNNING))
        stored = emulator.get(updating["id"])
        assert stored is not None and stored["properties"]["provisioningState"] == "Succeeded"
        assert emulator.get(f"{RUNNING['id']}/extensions/WindowsPatchExtension") is None
