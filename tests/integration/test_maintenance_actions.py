"""The maintenance actions through the Azure layer (real SDK clients) against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from remediator.azure import ApplySettings, AzureBackend
from remediator.emulator import Emulator
from remediator.errors import ArmOperationError, UsageError
from remediator.model import Change, fingerprint
from tests.data.maintenance.estates import SUB_A, assignment, configuration, estate, group, vm

FAST = ApplySettings(
    lro_poll_interval=0.01,
    operation_timeout=30,
    conflict_timeout=2,
    conflict_poll_interval=0.01,
    http_retry_backoff_factor=0.01,
)
CFG = configuration(SUB_A, "rg-maint", "nightly")
WIN = vm(SUB_A, "rg-app", "win", patch_mode="Manual", bypass=None, enable_automatic_updates=False)
HOT = vm(SUB_A, "rg-app", "hot", patch_mode="AutomaticByPlatform", bypass=False, hotpatch=True)
OFF = vm(SUB_A, "rg-app", "off", power="deallocated")
PATHS = {
    "patchMode": "properties.osProfile.windowsConfiguration.patchSettings.patchMode",
    "bypassPlatformSafetyChecksOnUserSchedule": "properties.osProfile.windowsConfiguration.patchSettings."
    "automaticByPlatformSettings.bypassPlatformSafetyChecksOnUserSchedule",
}


@pytest.fixture
def served() -> Iterator[tuple[Emulator, AzureBackend]]:
    doc = estate(group(SUB_A, "rg-maint"), group(SUB_A, "rg-app"), CFG, WIN, HOT, OFF, assignment(str(OFF["id"]), CFG))
    with ExitStack() as stack:
        emulator = Emulator.load(doc)
        endpoint = stack.enter_context(emulator.serve(port=0))
        backend = AzureBackend.for_endpoint(endpoint, FAST)
        stack.callback(backend.close)
        yield emulator, backend


def change(action: str, resource_id: str, before: dict[str, Any], after: dict[str, Any], **params: Any) -> Change:
    return Change(
        finding_id="f-test",
        playbook="test",
        resource_id=resource_id,
        action=action,
        before=before,
        after=after,
        params=params,
    )


def patch_change(vm_doc: dict[str, Any], before: dict[str, Any], paths: dict[str, str] | None = None) -> Change:
    after = {"patchMode": "AutomaticByPlatform", "bypassPlatformSafetyChecksOnUserSchedule": True}
    return change(
        "patch-patch-settings",
        str(vm_doc["id"]),
        before,
        {k: after.get(k, True) for k in before},
        paths=paths or PATHS,
        api_version="2024-07-01",
    )


def test_patch_settings_reads_back_its_fingerprint_and_sends_only_its_fields(served: Any) -> None:
    emulator, backend = served
    planned = patch_change(
        WIN,
        {"patchMode": "Manual", "bypassPlatformSafetyChecksOnUserSchedule": None, "enableAutomaticUpdates": False},
        {**PATHS, "enableAutomaticUpdates": "properties.osProfile.windowsConfiguration.enableAutomaticUpdates"},
    )
    assert fingerprint(backend.read_state(planned)) == planned.fingerprint
    backend.execute(planned)
    patches = [e for e in emulator.request_log if e.method == "PATCH"]
    assert [p.body for p in patches] == [
        {
            "properties": {
                "osProfile": {
                    "windowsConfiguration": {
                        "enableAutomaticUpdates": True,
                        "patchSettings": {
                            "patchMode": "AutomaticByPlatform",
                            "automaticByPlatformSettings": {"bypassPlatformSafetyChecksOnUserSchedule": True},
                        },
                    }
                }
            }
        }
    ]
    assert dict(backend.read_state(planned)) == dict(planned.after)


def test_patch_settings_refuses_fields_outside_patch_settings(served: Any) -> None:
    _, backend = served
    sneaky = patch_change(WIN, {"patchMode": "Manual"}, {"patchMode": "properties.hardwareProfile.vmSize"})
    with pytest.raises(UsageError):
        backend.execute(sneaky)


def test_emulator_refuses_the_bypass_on_a_hotpatch_vm(served: Any) -> None:
    _, backend = served
    planned = patch_change(HOT, {"patchMode": "AutomaticByPlatform", "bypassPlatformSafetyChecksOnUserSchedule": False})
    with pytest.raises(ArmOperationError) as caught:
        backend.execute(planned)
    assert caught.value.code == "InvalidParameter"


def test_emulator_refuses_automatic_by_platform_without_automatic_updates(served: Any) -> None:
    _, backend = served
    planned = patch_change(WIN, {"patchMode": "Manual", "bypassPlatformSafetyChecksOnUserSchedule": None})
    with pytest.raises(ArmOperationError) as caught:
        backend.execute(planned)
    assert caught.value.code == "InvalidParameter" and "enableAutomaticUpdates" in caught.value.detail


def test_assignment_create_is_idempotent_and_delete_of_a_missing_one_is_done(served: Any) -> None:
    emulator, backend = served
    target = f"{WIN['id']}/providers/Microsoft.Maintenance/configurationAssignments/nightly"
    create = change(
        "create-configuration-assignment",
        target,
        {"maintenanceConfigurationId": None},
        {"maintenanceConfigurationId": CFG["id"]},
        resourceId=WIN["id"],
        location="westeurope",
    )
    assert fingerprint(backend.read_state(create)) == create.fingerprint
    backend.execute(create)
    assert "already" in backend.execute(create)
    puts = [e for e in emulator.request_log if e.method == "PUT" and "configurationassignments" in e.path.lower()]
    assert len(puts) == 1
    delete = change(
        "delete-configuration-assignment",
        target,
        {"maintenanceConfigurationId": CFG["id"]},
        {"maintenanceConfigurationId": None},
    )
    assert fingerprint(backend.read_state(delete)) == delete.fingerprint
    backend.execute(delete)
    backend.execute(delete)
    assert emulator.state.store.get(target) is None
    scope = change(
        "create-configuration-assignment",
        f"/subscriptions/{SUB_A}/providers/Microsoft.Maintenance/configurationAssignments/all",
        {"maintenanceConfigurationId": None},
        {"maintenanceConfigurationId": CFG["id"]},
    )
    backend.execute(scope)
    assert backend.read_state(scope) == {"maintenanceConfigurationId": CFG["id"]}


def test_start_machine_waits_for_running_and_is_a_noop_when_running(served: Any) -> None:
    emulator, backend = served
    start = change("start-machine", str(OFF["id"]), {"powerState": "deallocated"}, {"powerState": "running"})
    assert fingerprint(backend.read_state(start)) == start.fingerprint
    assert backend.execute(start) == "started"
    assert backend.read_state(start) == {"powerState": "running"}
    assert backend.execute(start) == "already running"
    assert len([e for e in emulator.request_log if e.method == "POST" and e.path.endswith("/start")]) == 1


def test_set_duration_changes_only_the_duration(served: Any) -> None:
    emulator, backend = served
    planned = change("set-maintenance-window-duration", str(CFG["id"]), {"duration": "02:00"}, {"duration": "03:55"})
    assert fingerprint(backend.read_state(planned)) == planned.fingerprint
    backend.execute(planned)
    stored = emulator.state.store.get(str(CFG["id"]))
    window = stored["properties"]["maintenanceWindow"]
    assert window == {**CFG["properties"]["maintenanceWindow"], "duration": "03:55"}
    assert stored["properties"]["installPatches"] == CFG["properties"]["installPatches"]


def test_another_operation_in_progress_is_waited_out() -> None:
    doc = estate(group(SUB_A, "rg-maint"), group(SUB_A, "rg-app"), CFG, WIN)
    doc["emulator"] = {
        "faults": [{"route": "put_assignment", "status": 409, "code": "AnotherOperationInProgress", "count": 2}]
    }
    target = f"{WIN['id']}/providers/Microsoft.Maintenance/configurationAssignments/nightly"
    create = change(
        "create-configuration-assignment",
        target,
        {"maintenanceConfigurationId": None},
        {"maintenanceConfigurationId": CFG["id"]},
    )
    with ExitStack() as stack:
        emulator = Emulator.load(doc)
        endpoint = stack.enter_context(emulator.serve(port=0))
        backend = AzureBackend.for_endpoint(endpoint, FAST)
        stack.callback(backend.close)
        backend.execute(create)
        puts = [e.status for e in emulator.request_log if e.method == "PUT"]
        assert puts == [409, 409, 200]
        assert emulator.state.store.get(target) is not None
