"""The emulator's own reading of the Update Manager policies' effects (pure parts)."""

from __future__ import annotations

import json
from typing import Any

from remediator.emulator.policy_effects import (
    apply_to_machine,
    configuration_assignment_id,
    linked_reads,
    plan_deployment,
    unique_string,
)
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

BUILTINS = b.BUILTINS_DIR / "policy-definitions"


def _definition(guid: str) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads((BUILTINS / f"{guid}.json").read_text())
    return definition


def test_modify_sets_assessment_mode_and_needs_vm_write_plus_linked_reads() -> None:
    plan = plan_deployment(sc.VM_GALLERY, _definition("59efceea-0c96-497e-a4a1-4eb2290dac15"), {}, "modify")
    assert ("Microsoft.Compute/virtualMachines/write", sc.VM_GALLERY["id"]) in plan.checks
    assert ("Microsoft.Compute/galleries/images/versions/read", sc.IMAGE_VERSION_ID) in plan.checks
    assert not any(action == "Microsoft.Resources/deployments/write" for action, _ in plan.checks)
    machine = {**sc.VM_GALLERY, "properties": dict(sc.VM_GALLERY["properties"])}
    apply_to_machine(machine, plan)
    assert machine["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"] == {
        "assessmentMode": "AutomaticByPlatform"
    }


def test_dine_prerequisites_deploy_into_the_group_and_set_patch_mode() -> None:
    plan = plan_deployment(sc.VM_RESTORED, _definition("9905ca54-1471-49c6-8291-7582c04cd4d4"), {}, "deployifnotexists")
    assert plan.checks[0] == ("Microsoft.Resources/deployments/write", b.rg_id(b.S1, "vms"))
    assert (
        "Microsoft.Compute/disks/read",
        sc.VM_RESTORED["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"],
    ) in plan.checks
    machine = {**sc.VM_RESTORED, "properties": dict(sc.VM_RESTORED["properties"])}
    apply_to_machine(machine, plan)
    settings = machine["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]
    assert settings["patchMode"] == "AutomaticByPlatform"
    assert settings["automaticByPlatformSettings"] == {"bypassPlatformSafetyChecksOnUserSchedule": True}


def test_scheduling_names_its_assignment_like_the_policy_template() -> None:
    config = f"{b.rg_id(b.S2, 'm')}/providers/Microsoft.Maintenance/maintenanceConfigurations/weekly"
    plan = plan_deployment(
        sc.ARC,
        _definition("ba0df93e-e4ac-479a-aac2-134bbae39a1a"),
        {"maintenanceConfigurationResourceId": {"value": config}},
        "deployifnotexists",
    )
    assert plan.configuration_id == config
    assert ("Microsoft.Maintenance/maintenanceConfigurations/read", config) in plan.checks
    assert not plan.patch_settings  # Arc machines keep their patch mode
    name = configuration_assignment_id(sc.ARC["id"], config).rsplit("/", 1)[-1]
    assert name == unique_string(config.lower()) + "-AzPolicy" and len(unique_string("x")) == 13
    assert unique_string(config.lower()) == unique_string(config.lower()) != unique_string("other")


def test_linked_reads_cover_image_disks_and_encryption_sets() -> None:
    des = f"{b.rg_id(b.S2, 'keys')}/providers/Microsoft.Compute/diskEncryptionSets/des1"
    vm = b.vm(b.S1, "vms", "enc", image_id=sc.IMAGE_DEFINITION_ID, encryption_set=des)
    actions = dict((scope, action) for action, scope in linked_reads(vm))
    assert actions[sc.IMAGE_DEFINITION_ID] == "Microsoft.Compute/galleries/images/read"
    assert actions[des] == "Microsoft.Compute/diskEncryptionSets/read"
