"""The Maintenance and Compute services' own behaviour, where it differs from their specs.

* Azure/azure-rest-api-specs issue 26565: once a machine has any configuration assignment, a GET
  of another, non-existent assignment name on it answers 400 ("Invalid configurationAssignmentName
  ... Confirm api version"), not 404. The bot must read that as "absent".
"""

from __future__ import annotations

from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.mgmt.maintenance import MaintenanceManagementClient

from tests.data.maintenance.estates import SUB_A, SUB_B, assignment, vm
from tests.e2e.test_maintenance_playbooks import CFG, WEEKLY, _id, moved_estate
from tests.playbook_harness import run_through_emulator, statuses

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
