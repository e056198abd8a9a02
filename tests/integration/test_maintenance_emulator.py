"""The emulator's Microsoft.Maintenance through the unmodified azure-mgmt-maintenance 2.1.0 client."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.maintenance import MaintenanceManagementClient
from azure.mgmt.maintenance.models import (
    ConfigurationAssignment,
    ConfigurationAssignmentFilterProperties,
    MaintenanceConfiguration,
    TagSettingsProperties,
)
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from remediator.emulator.maintenance import dynamic_scope_members
from tests.data.maintenance.estates import SUB_A, SUB_B, arc, configuration, estate, group, vm

RG = "rg-maint"
VM1 = vm(SUB_A, "rg-app", "vm1", tags={"ring": "1"})
VM2 = vm(SUB_A, "rg-app", "vm2", os="Linux", tags={"ring": "2"}, location="eastus")
ARC1 = arc(SUB_A, "rg-app", "arc1", tags={"ring": "1"})
SCALE_SET_VM = {
    "id": f"/subscriptions/{SUB_A}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/ss1"
    "/virtualMachines/0",
    "name": "0",
    "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
    "location": "westeurope",
    "properties": {},
}
SCALE_SET = {
    "id": f"/subscriptions/{SUB_A}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachineScaleSets/ss1",
    "name": "ss1",
    "type": "Microsoft.Compute/virtualMachineScaleSets",
    "location": "westeurope",
    "properties": {},
}
SEED_CONFIG = configuration(SUB_A, RG, "seeded")


@pytest.fixture
def served(emulator_factory: Any) -> Any:
    return emulator_factory(
        estate(
            group(SUB_A, RG),
            group(SUB_A, "rg-app"),
            group(SUB_B, "rg-b"),
            SEED_CONFIG,
            VM1,
            VM2,
            ARC1,
            SCALE_SET,
            SCALE_SET_VM,
        )
    )


def client(served: Any, sub: str = SUB_A) -> MaintenanceManagementClient:
    return MaintenanceManagementClient(served.credential(), sub, **served.client_kwargs())


def in_guest_patch(duration: str = "02:00") -> MaintenanceConfiguration:
    return MaintenanceConfiguration(
        location="westeurope",
        maintenance_scope="InGuestPatch",
        start_date_time="2026-12-01 22:00",
        duration=duration,
        time_zone="Tokyo Standard Time",
        recur_every="Month Last Sunday Offset-3",
        extension_properties={"InGuestPatchMode": "User"},
    )


def test_configuration_crud_and_lists(served: Any) -> None:
    mc = client(served)
    created = mc.maintenance_configurations.create_or_update(RG, "tokyo", in_guest_patch())
    assert created.id.lower().endswith("/maintenanceconfigurations/tokyo")
    assert created.recur_every == "Month Last Sunday Offset-3" and created.namespace == "Microsoft.Maintenance"
    assert {c.name for c in mc.maintenance_configurations.list()} == {"seeded", "tokyo"}
    assert {c.name for c in mc.maintenance_configurations_for_resource_group.list(RG)} == {"seeded", "tokyo"}
    config = mc.maintenance_configurations.get(RG, "tokyo")
    config.duration = "03:00"
    mc.maintenance_configurations.update(RG, "tokyo", config)
    stored = served.emulator.state.store.get(created.id)
    assert stored["properties"]["maintenanceWindow"]["duration"] == "03:00"
    assert stored["properties"]["maintenanceWindow"]["timeZone"] == "Tokyo Standard Time"
    mc.maintenance_configurations.delete(RG, "tokyo")
    with pytest.raises(ResourceNotFoundError):
        mc.maintenance_configurations.get(RG, "tokyo")


@pytest.mark.parametrize("duration", ["04:00", "01:00", "3h"])
def test_in_guest_patch_window_outside_the_service_limits_is_refused(served: Any, duration: str) -> None:
    with pytest.raises(HttpResponseError) as caught:
        client(served).maintenance_configurations.create_or_update(RG, "bad", in_guest_patch(duration))
    assert caught.value.status_code == 400
    assert caught.value.error is not None and caught.value.error.code == "InvalidParameter"
    assert (
        served.emulator.state.store.get(
            f"/subscriptions/{SUB_A}/resourceGroups/{RG}/providers/Microsoft.Maintenance/maintenanceConfigurations/bad"
        )
        is None
    )


def test_static_and_parent_assignments(served: Any) -> None:
    mc = client(served)
    body = ConfigurationAssignment(location="westeurope", maintenance_configuration_id=SEED_CONFIG["id"])
    made = mc.configuration_assignments.create_or_update(
        "rg-app", "Microsoft.Compute", "virtualMachines", "vm1", "seeded", body
    )
    assert made.resource_id.lower() == VM1["id"].lower()
    listed = list(mc.configuration_assignments.list("rg-app", "Microsoft.Compute", "virtualMachines", "vm1"))
    assert [a.maintenance_configuration_id for a in listed] == [SEED_CONFIG["id"]]
    assert list(mc.configuration_assignments.list("rg-app", "Microsoft.Compute", "virtualMachines", "vm2")) == []
    parent = mc.configuration_assignments.create_or_update_parent(
        "rg-app", "Microsoft.Compute", "virtualMachineScaleSets", "ss1", "virtualMachines", "0", "seeded", body
    )
    assert parent.resource_id.lower() == SCALE_SET_VM["id"].lower()
    got = mc.configuration_assignments.get_parent(
        "rg-app", "Microsoft.Compute", "virtualMachineScaleSets", "ss1", "virtualMachines", "0", "seeded"
    )
    assert got.id == parent.id
    with pytest.raises(ResourceNotFoundError):
        mc.configuration_assignments.create_or_update(
            "rg-app", "Microsoft.Compute", "virtualMachines", "nope", "seeded", body
        )
    unknown_config = ConfigurationAssignment(maintenance_configuration_id=SEED_CONFIG["id"] + "-missing")
    with pytest.raises(ResourceNotFoundError):
        mc.configuration_assignments.create_or_update(
            "rg-app", "Microsoft.Compute", "virtualMachines", "vm2", "x", unknown_config
        )
    removed = mc.configuration_assignments.delete("rg-app", "Microsoft.Compute", "virtualMachines", "vm1", "seeded")
    assert removed is not None and removed.name == "seeded"
    assert (
        mc.configuration_assignments.delete("rg-app", "Microsoft.Compute", "virtualMachines", "vm1", "seeded") is None
    )


def test_stale_assignment_of_a_machine_that_moved_can_still_be_deleted(served: Any) -> None:
    stale_vm = f"/subscriptions/{SUB_A}/resourceGroups/rg-app/providers/Microsoft.Compute/virtualMachines/gone"
    stale_id = f"{stale_vm}/providers/Microsoft.Maintenance/configurationAssignments/seeded"
    served.emulator.state.store.put(
        {
            "id": stale_id,
            "type": "Microsoft.Maintenance/configurationAssignments",
            "properties": {"maintenanceConfigurationId": SEED_CONFIG["id"], "resourceId": stale_vm},
        }
    )
    mc = client(served)
    got = mc.configuration_assignments.get("rg-app", "Microsoft.Compute", "virtualMachines", "gone", "seeded")
    assert got.resource_id == stale_vm
    mc.configuration_assignments.delete("rg-app", "Microsoft.Compute", "virtualMachines", "gone", "seeded")
    assert served.emulator.state.store.get(stale_id) is None


def test_dynamic_scopes_at_subscription_and_resource_group(served: Any) -> None:
    mc = client(served)
    ring1 = ConfigurationAssignment(
        maintenance_configuration_id=SEED_CONFIG["id"],
        filter=ConfigurationAssignmentFilterProperties(
            resource_types=["Microsoft.Compute/virtualMachines", "Microsoft.HybridCompute/machines"],
            tag_settings=TagSettingsProperties(tags={"ring": ["1"]}, filter_operator="Any"),
        ),
    )
    made = mc.configuration_assignments_for_subscriptions.create_or_update("ring1", ring1)
    assert made.resource_id == f"/subscriptions/{SUB_A}"
    assert made.filter.tag_settings.tags == {"ring": ["1"]}
    linux_eastus = ConfigurationAssignment(
        maintenance_configuration_id=SEED_CONFIG["id"],
        filter=ConfigurationAssignmentFilterProperties(os_types=["Linux"], locations=["East US"]),
    )
    in_group = mc.configuration_assignments_for_resource_group.create_or_update("rg-app", "linux-eu", linux_eastus)
    assert in_group.resource_id.lower() == f"/subscriptions/{SUB_A}/resourcegroups/rg-app"
    assert mc.configuration_assignments_for_resource_group.get("rg-app", "linux-eu").filter.os_types == ["Linux"]
    names = {a.name for a in mc.configuration_assignments_within_subscription.list()}
    assert names == {"ring1", "linux-eu"}

    state = served.emulator.state
    members = {str(m["name"]) for m in dynamic_scope_members(state, state.store.get(made.id))}
    assert members == {"vm1", "arc1"}
    members = {str(m["name"]) for m in dynamic_scope_members(state, state.store.get(in_group.id))}
    assert members == {"vm2"}

    rows = (
        ResourceGraphClient(served.credential(), **served.client_kwargs())
        .resources(
            QueryRequest(
                subscriptions=[SUB_A],
                query="maintenanceresources | where type in~ ('microsoft.maintenance/configurationassignments') "
                "| project id, name, type, properties",
                options=QueryRequestOptions(result_format="objectArray"),
            )
        )
        .data
    )
    assert {r["name"] for r in rows} == {"ring1", "linux-eu"}
    assert all(r["type"] == "microsoft.maintenance/configurationassignments" for r in rows)

    mc.configuration_assignments_for_subscriptions.delete("ring1")
    mc.configuration_assignments_for_resource_group.delete("rg-app", "linux-eu")
    assert list(mc.configuration_assignments_within_subscription.list()) == []


def test_dynamic_scope_needs_an_in_guest_patch_configuration(served: Any) -> None:
    mc = client(served)
    host = mc.maintenance_configurations.create_or_update(
        RG, "host", MaintenanceConfiguration(location="westeurope", maintenance_scope="Host")
    )
    with pytest.raises(HttpResponseError) as caught:
        mc.configuration_assignments_for_subscriptions.create_or_update(
            "host-scope", ConfigurationAssignment(maintenance_configuration_id=host.id)
        )
    assert caught.value.status_code == 400


def test_apply_updates(served: Any) -> None:
    mc = client(served)
    mc.configuration_assignments.create_or_update(
        "rg-app",
        "Microsoft.Compute",
        "virtualMachines",
        "vm1",
        "seeded",
        ConfigurationAssignment(maintenance_configuration_id=SEED_CONFIG["id"]),
    )
    pending = mc.apply_updates.create_or_update("rg-app", "Microsoft.Compute", "virtualMachines", "vm1")
    assert pending.status == "Pending" and pending.resource_id.lower() == VM1["id"].lower()
    done = mc.apply_updates.get("rg-app", "Microsoft.Compute", "virtualMachines", "vm1", pending.name)
    assert done.status == "Completed"
    assert [u.name for u in mc.apply_update_for_resource_group.list("rg-app")] == [pending.name]


def test_unsupported_api_version_is_refused(served: Any) -> None:
    response = served.arm(
        "GET",
        f"/subscriptions/{SUB_A}/providers/Microsoft.Maintenance/maintenanceConfigurations?api-version=2015-01-01",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_dynamic_scope_filter_can_be_patched(served: Any) -> None:
    from azure.mgmt.maintenance.models import ConfigurationAssignmentFilterProperties as Filter

    mc = client(served)
    mc.configuration_assignments_for_subscriptions.create_or_update(
        "rings",
        ConfigurationAssignment(maintenance_configuration_id=SEED_CONFIG["id"], filter=Filter(os_types=["Linux"])),
    )
    patched = mc.configuration_assignments_for_subscriptions.update(
        "rings",
        ConfigurationAssignment(maintenance_configuration_id=SEED_CONFIG["id"], filter=Filter(os_types=["Windows"])),
    )
    assert patched.filter.os_types == ["Windows"]
    state = served.emulator.state
    members = {str(m["name"]) for m in dynamic_scope_members(state, state.store.get(patched.id))}
    assert members == {"vm1", "arc1"}


def test_pending_updates_and_operations(served: Any) -> None:
    mc = client(served)
    assert list(mc.updates.list("rg-app", "Microsoft.Compute", "virtualMachines", "vm1")) == []
    names = {op.name for op in mc.operations.list()}
    assert "Microsoft.Maintenance/configurationAssignments/write" in names
    assert list(mc.public_maintenance_configurations.list()) == []
