"""The Maintenance and Compute services' own behaviour, where it differs from their specs.

* Azure/azure-rest-api-specs issue 26565: once a machine has any configuration assignment, a GET
  of another, non-existent assignment name on it answers 400 ("Invalid configurationAssignmentName
  ... Confirm api version"), not 404. The bot must read that as "absent".
* Compute serializes writes to one VM: while an operation on it is in flight, another write
  answers 409 ``Conflict``; the bot waits it out in its one retry place (``retry.py``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.mgmt.maintenance import MaintenanceManagementClient

from remediator import Change
from remediator.azure import AzureBackend
from tests.data.maintenance.estates import SUB_A, SUB_B, assignment, estate, group, vm
from tests.e2e.test_maintenance_playbooks import CFG, WEEKLY, _id, moved_estate
from tests.playbook_harness import FAST, run_through_emulator, statuses

ASSIGNMENTS = "/providers/Microsoft.Maintenance/configurationAssignments/"


def _moved_with_second_schedule() -> dict[str, Any]:
    doc = moved_estate()
    moved = vm(SUB_B, "rg-new", "app1")
    doc["resources"] += [WEEKLY, assignment(_id(moved), WEEKLY)]  # the moved VM already has another schedule
    return doc


def test_get_of_an_absent_assignment_on_a_machine_with_another_answers_400(emulator_factory: Any) -> None:
    served = emulator_factory(_moved_with_second_schedule())
    client = MaintenanceManagementClient(served.credential(), SUB_B, **served.client_kwargs())
    ops = client.configuration_assignments

    held = ops.get("rg-new", "Microsoft.Compute", "virtualMachines", "app1", "weekly")
    assert held.maintenance_configuration_id.lower() == WEEKLY["id"].lower()
    try:
        ops.get("rg-new", "Microsoft.Compute", "virtualMachines", "app1", "nightly")
        raise AssertionError("expected the service's 400")
    except HttpResponseError as exc:
        assert exc.status_code == 400
        assert "Invalid configurationAssignmentName: nightly. Confirm api version." in str(exc.message)


def test_a_moved_machine_with_a_second_schedule_is_repaired_create_then_delete() -> None:
    result = run_through_emulator(_moved_with_second_schedule(), playbooks=["maintenance-moved-resource"])

    actions = [c.action for c in sorted(result.first.changes, key=lambda c: c.order)]
    assert actions == ["create-configuration-assignment", "delete-configuration-assignment"]
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    store = result.emulator.state.store
    moved_id = _id(vm(SUB_B, "rg-new", "app1"))
    assert store.get(f"{moved_id}{ASSIGNMENTS}nightly")["properties"]["maintenanceConfigurationId"] == CFG["id"]
    assert store.get(f"{moved_id}{ASSIGNMENTS}weekly") is not None  # its other schedule is kept
    old = f"/subscriptions/{SUB_A}/resourceGroups/rg-old/providers/Microsoft.Compute/virtualMachines/app1"
    assert store.get(f"{old}{ASSIGNMENTS}nightly") is None


def _patch_change(vm_id: str) -> Change:
    base = "properties.osProfile.windowsConfiguration"
    bypass = "bypassPlatformSafetyChecksOnUserSchedule"
    return Change(
        finding_id="f-test",
        playbook="schedule-prerequisites",
        resource_id=vm_id,
        action="patch-patch-settings",
        before={"patchMode": "AutomaticByOS", bypass: None},
        after={"patchMode": "AutomaticByPlatform", bypass: True},
        params={
            "paths": {
                "patchMode": f"{base}.patchSettings.patchMode",
                bypass: f"{base}.patchSettings.automaticByPlatformSettings.{bypass}",
            },
            "api_version": "2024-07-01",
        },
    )


def test_a_vm_write_while_another_is_in_flight_gets_409_and_the_bot_waits_it_out(emulator_factory: Any) -> None:
    target = vm(SUB_A, "rg-app", "busy", patch_mode="AutomaticByOS", bypass=None, power="deallocated")
    served = emulator_factory(estate(group(SUB_A, "rg-app"), target))
    vm_id = _id(target)
    log = served.emulator.state.request_log
    # Someone else starts the VM: Compute holds it until that operation ends.
    started = served.arm("POST", f"{vm_id}/start?api-version=2024-07-01")
    assert started.status_code == 202
    backend = AzureBackend.for_endpoint(served.endpoint, replace(FAST, conflict_timeout=60))
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(backend.execute(_patch_change(vm_id))))
    try:
        worker.start()
        deadline = time.monotonic() + 30
        while not any(e.method == "PATCH" and e.status == 409 for e in list(log)) and time.monotonic() < deadline:
            time.sleep(0.05)
        refused = next(e for e in list(log) if e.method == "PATCH" and e.status == 409)
        assert refused.response_body["error"]["code"] == "Conflict"
        assert "conflict with a concurrent request" in refused.response_body["error"]["message"]
        # The start finishes (its caller polls it to the end); the bot's retry then goes through.
        status_url = started.headers["Azure-AsyncOperation"].replace(served.endpoint.url, "")
        while served.arm("GET", status_url).json()["status"] == "InProgress":
            pass
        worker.join(timeout=60)
    finally:
        backend.close()
    assert outcome and outcome[0].startswith("set patchMode=AutomaticByPlatform")
    stored = served.emulator.get(vm_id)
    assert (
        stored["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["patchMode"] == "AutomaticByPlatform"
    )
