"""What the seeding derives from an example: scopes, shown resources, stand-ins for references."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.emulator import Emulator
from tests.contract.family_seeders import estate_for
from tests.contract.placeholders import placeholder_subscriptions, with_real_subscriptions
from tests.contract.replay import request_of
from tests.contract.seeding import REMEDIABLE_DEFINITION, is_resource_id, scopes_above
from tests.contract.swagger import Example, SpecFolder


def _example(specs: SpecFolder, file_name: str) -> Example:
    found = [e for e in specs.examples() if e.path.name == file_name]
    if not found:
        pytest.skip(f"{file_name} is not in {specs.root}")
    return found[0]


def _seeded(example: Example) -> Emulator:
    request = request_of(example)
    estate, _ = estate_for(example, request.path, request.body)
    return Emulator.load(estate)


def test_scopes_above_an_extension_resource() -> None:
    assignment = (
        "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
        "/providers/Microsoft.Maintenance/configurationAssignments/a"
    )
    assert list(scopes_above(assignment)) == [
        "/subscriptions/s",
        "/subscriptions/s/resourcegroups/rg",
        "/subscriptions/s/resourcegroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss",
    ]
    assert list(scopes_above("/providers/Microsoft.Management/managementGroups/mg/providers/X.Y/z/n")) == [
        "/providers/Microsoft.Management/managementGroups/mg"
    ]
    assert is_resource_id(assignment)
    assert not is_resource_id("/subscriptions/s")
    assert not is_resource_id("/subscriptions/s/providers/Microsoft.TestRP1")


def _remediation_create(specs: SpecFolder, file_name: str) -> tuple[Example, Emulator, Any, dict[str, Any]]:
    """A remediation create example, its seeded emulator, its properties and the assignment seeded for it."""
    example = _example(specs, file_name)
    emulator = _seeded(example)
    props = example.parameters["parameters"]["properties"]
    assignment = emulator.get(props["policyAssignmentId"])
    assert assignment is not None
    return example, emulator, props, assignment


def test_a_create_seeds_what_it_references_but_not_itself(specs: SpecFolder) -> None:
    example, emulator, _, assignment = _remediation_create(specs, "Remediations_CreateResourceScope.json")
    assert assignment["properties"]["policyDefinitionId"] == REMEDIABLE_DEFINITION
    target = "/" + example.parameters["resourceId"]
    assert emulator.get(target) is not None  # the scope the remediation is created at
    assert emulator.get(request_of(example).path) is None


def test_a_read_seeds_the_resource_it_shows(specs: SpecFolder) -> None:
    example = _example(specs, "ConfigurationAssignments_Get.json")
    emulator = _seeded(example)
    shown = example.responses["200"]["body"]
    stored = emulator.get(shown["id"])
    assert stored is not None and stored["properties"] == shown["properties"]
    configuration = emulator.get(shown["properties"]["maintenanceConfigurationId"])
    assert configuration is not None and configuration["type"] == "Microsoft.Maintenance/maintenanceConfigurations"


def test_policy_state_rows_become_records(specs: SpecFolder) -> None:
    example = _example(specs, "PolicyStates_QueryResourceGroupScope.json")
    rows = example.responses["200"]["body"]["value"]
    records = _seeded(example).policy_states()
    assert [(r["resourceId"], r["policyAssignmentId"]) for r in records] == [
        (row["resourceId"], row["policyAssignmentId"]) for row in rows
    ]
    assert {r["complianceState"] for r in records} <= {"Compliant", "NonCompliant"}


def test_a_reference_id_makes_the_assignment_it_names_an_initiative_holding_it(specs: SpecFolder) -> None:
    all_properties = "Remediations_CreateSubscriptionScope_AllProperties.json"
    _, emulator, props, assignment = _remediation_create(specs, all_properties)
    set_id = assignment["properties"]["policyDefinitionId"]
    assert "/providers/microsoft.authorization/policysetdefinitions/" in set_id.lower()
    initiative = emulator.get(set_id)
    assert initiative is not None
    members = initiative["properties"]["policyDefinitions"]
    assert [(m["policyDefinitionReferenceId"], m["policyDefinitionId"]) for m in members] == [
        (props["policyDefinitionReferenceId"], REMEDIABLE_DEFINITION)
    ]


def test_a_placeholder_subscription_becomes_one_guid_everywhere_and_real_ones_stay() -> None:
    real = "35ee058e-5fa0-414c-8145-3ebb8d09b6e2"
    identity = "/subscriptions/subId/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i"
    parameters = {"subscriptionId": "subId", "scope": "subscriptions/subId", "other": f"/subscriptions/{real}/x",
                  "kind": "Microsoft.Resources/subscriptions/resourceGroups"}  # fmt: skip
    example: dict[str, Any] = {
        "parameters": parameters,
        "responses": {"200": {"body": {"id": "/subscriptions/subId/providers/P/t/n", "identity": {identity: {}},
                                       "properties": {"subscriptionId": "subId", "name": "subIdentity"}}}},
    }  # fmt: skip
    fixed = with_real_subscriptions(example)
    [guid] = placeholder_subscriptions(example).values()
    assert fixed["parameters"] == {**parameters, "subscriptionId": guid, "scope": f"subscriptions/{guid}"}
    body = fixed["responses"]["200"]["body"]
    assert body["id"] == f"/subscriptions/{guid}/providers/P/t/n"
    assert list(body["identity"]) == [identity.replace("subId", guid)]
    assert body["properties"] == {"subscriptionId": guid, "name": "subIdentity"}
    untouched = {"parameters": {"subscriptionId": real}, "responses": {}}
    assert with_real_subscriptions(untouched) is untouched
