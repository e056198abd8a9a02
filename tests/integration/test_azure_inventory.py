"""Inventory through Resource Graph and the providers API: real SDK clients over HTTPS, emulator behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from remediator.azure import ApplySettings, AzureBackend
from remediator.emulator import Emulator
from remediator.errors import UsageError
from remediator.model import Scope
from remediator.playbook import Needs

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB1 = "00000000-0000-0000-0000-0000000000b1"
SUB2 = "00000000-0000-0000-0000-0000000000b2"
SUB3 = "00000000-0000-0000-0000-0000000000b3"
VM = "Microsoft.Compute/virtualMachines"
ARC = "Microsoft.HybridCompute/machines"
ASSIGNMENT = "Microsoft.Maintenance/configurationAssignments"
POLICY_ASSIGNMENT = "Microsoft.Authorization/policyAssignments"
ROLE_ASSIGNMENT = "Microsoft.Authorization/roleAssignments"
MANAGEMENT_GROUP = "Microsoft.Management/managementGroups"
FAST = ApplySettings(provider_poll_interval=0.02, http_retry_backoff_factor=0.01, read_concurrency=4)
BUILTIN_POLICY = "/providers/Microsoft.Authorization/policyDefinitions/59efceea-0c96-497e-a4a1-4eb2290dac15"


def rg(sub: str, name: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{name}",
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Succeeded"},
    }


def vm(sub: str, name: str, group: str = "rg1") -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/{group}/providers/{VM}/{name}",
        "name": name,
        "type": VM,
        "location": "westeurope",
        "tags": {"env": "prod"},
        "properties": {"vmId": f"vmid-{name}", "osProfile": {"computerName": name}},
    }


def arc(sub: str, name: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/rg1/providers/{ARC}/{name}",
        "name": name,
        "type": ARC,
        "location": "westeurope",
        "properties": {"osType": "windows", "status": "Connected"},
    }


def small_estate() -> dict[str, Any]:
    config = (
        f"/subscriptions/{SUB1}/resourceGroups/rg1/providers/Microsoft.Maintenance/maintenanceConfigurations/weekly"
    )
    vm1 = vm(SUB1, "vm1")
    return {
        "tenantId": TENANT,
        "subscriptions": [
            {"subscriptionId": SUB1, "displayName": "prod", "providers": {"Microsoft.Compute": "NotRegistered"}},
            {"subscriptionId": SUB2, "displayName": "dev", "providers": {"Microsoft.Compute": "Registering"}},
            {"subscriptionId": SUB3, "displayName": "sandbox"},
        ],
        "resources": [
            rg(SUB1, "rg1"),
            rg(SUB2, "rg1"),
            rg(SUB3, "rg1"),
            vm1,
            vm(SUB2, "vm2"),
            vm(SUB3, "vm3"),
            arc(SUB1, "arc1"),
            {
                "id": config,
                "name": "weekly",
                "type": "Microsoft.Maintenance/maintenanceConfigurations",
                "location": "westeurope",
                "properties": {"maintenanceScope": "InGuestPatch"},
            },
            {
                "id": f"{vm1['id']}/providers/{ASSIGNMENT}/weekly",
                "name": "weekly",
                "type": ASSIGNMENT,
                "location": "westeurope",
                "properties": {"maintenanceConfigurationId": config, "resourceId": vm1["id"]},
            },
        ],
        "policyStates": [
            {
                "resourceId": vm1["id"],
                "policyAssignmentId": f"/subscriptions/{SUB1}/providers/{POLICY_ASSIGNMENT}/assess",
                "policyDefinitionId": BUILTIN_POLICY,
                "complianceState": "NonCompliant",
                "timestamp": "2026-11-26T08:00:00Z",
            }
        ],
    }


@pytest.fixture
def served() -> Iterator[Any]:
    """A function: estate dict -> (emulator, backend), served over HTTPS until teardown."""
    with ExitStack() as stack:

        def start(estate_doc: dict[str, Any], settings: ApplySettings = FAST) -> tuple[Emulator, AzureBackend]:
            emu = Emulator.load(estate_doc)
            endpoint = stack.enter_context(emu.serve(port=0))
            backend = AzureBackend.for_endpoint(endpoint, settings)
            stack.callback(backend.close)
            return emu, backend

        yield start


def graph_queries(emu: Emulator) -> list[Any]:
    return [e for e in emu.request_log if e.path.lower().endswith("/providers/microsoft.resourcegraph/resources")]


def ids(resources: Any) -> set[str]:
    return {r.id.lower() for r in resources}


def test_reads_needed_types_of_the_scoped_subscriptions_in_bulk(served: Any) -> None:
    emu, backend = served(small_estate())
    needs = Needs(
        resource_types=frozenset({VM, ARC, ASSIGNMENT}),
        providers=frozenset({"Microsoft.Compute"}),
        policy_states=True,
    )

    estate = backend.read_estate(Scope(subscriptions=(SUB1, SUB2)), needs, None)

    assert ids(estate.of_type(VM)) == {vm(SUB1, "vm1")["id"].lower(), vm(SUB2, "vm2")["id"].lower()}
    assert ids(estate.of_type(ARC)) == {arc(SUB1, "arc1")["id"].lower()}
    (assignment,) = estate.of_type(ASSIGNMENT)
    assert assignment.properties["resourceId"].lower() == vm(SUB1, "vm1")["id"].lower()
    # Rows are kept as Resource Graph returns them: lowercase type, every projected field.
    vm1 = estate.get(vm(SUB1, "vm1")["id"])
    assert vm1 is not None and vm1.type == VM.lower() and vm1.tags == {"env": "prod"}
    assert vm1.raw["subscriptionId"] == SUB1
    assert estate.by_vm_id("vmid-vm1") is vm1
    # Maintenance configurations were not asked for.
    assert estate.of_type("Microsoft.Maintenance/maintenanceConfigurations") == ()

    (state,) = estate.policy_states
    assert state.compliance_state == "NonCompliant"
    assert state.resource_id.lower() == vm(SUB1, "vm1")["id"].lower()

    assert [s.subscription_id for s in estate.subscriptions] == [SUB1, SUB2]
    assert estate.subscription(SUB1).provider_state("Microsoft.Compute") == "NotRegistered"  # type: ignore[union-attr]
    assert estate.subscription(SUB2).provider_state("microsoft.compute") == "Registering"  # type: ignore[union-attr]
    assert estate.subscription(SUB1).display_name == "prod"  # type: ignore[union-attr]
    assert estate.tenant_id == TENANT

    # One Resource Graph query per table (resources, maintenanceresources, policyresources) and
    # not a single per-machine GET.
    assert len(graph_queries(emu)) == 3
    assert not [e for e in emu.request_log if e.method == "GET" and "/virtualmachines/" in e.path.lower()]


def test_all_visible_subscriptions_when_no_scope_is_given(served: Any) -> None:
    _, backend = served(small_estate())

    estate = backend.read_estate(Scope(), Needs(resource_types=frozenset({VM})), None)

    assert {s.subscription_id for s in estate.subscriptions} == {SUB1, SUB2, SUB3}
    assert len(estate.of_type(VM)) == 3
    assert all(s.providers == {} for s in estate.subscriptions)


def test_unknown_subscription_is_a_usage_error_naming_it(served: Any) -> None:
    _, backend = served(small_estate())
    missing = "00000000-0000-0000-0000-0000000000ff"

    with pytest.raises(UsageError) as raised:
        backend.read_estate(Scope(subscriptions=(SUB1, missing)), Needs(), None)

    assert missing in str(raised.value)


def test_pages_through_more_than_a_thousand_rows(served: Any) -> None:
    doc = small_estate()
    doc["resources"].extend(vm(SUB1, f"bulk{i:04d}", group="rg1") for i in range(1150))
    emu, backend = served(doc)

    estate = backend.read_estate(Scope(subscriptions=(SUB1,)), Needs(resource_types=frozenset({VM})), None)

    assert len(estate.of_type(VM)) == 1151
    assert len(graph_queries(emu)) >= 2
    first, second = graph_queries(emu)[:2]
    assert "$skipToken" not in (first.body.get("options") or {})
    assert second.body["options"]["$skipToken"]


def test_waits_for_the_resource_graph_quota_instead_of_failing(served: Any) -> None:
    doc = small_estate()
    # One query per half second: without waiting for the announced reset, the second query of
    # the three (one per table) would be refused with 429.
    doc["emulator"] = {"throttling": True, "graphQuota": 1, "graphQuotaWindowSeconds": 0.5}
    emu, backend = served(doc)
    needs = Needs(resource_types=frozenset({VM, ASSIGNMENT}), policy_states=True)

    estate = backend.read_estate(Scope(subscriptions=(SUB1,)), needs, None)

    assert len(estate.of_type(VM)) == 1 and len(estate.policy_states) == 1
    assert [e.status for e in graph_queries(emu)] == [200, 200, 200]


def test_management_group_scope_reads_its_subscriptions(served: Any) -> None:
    doc = small_estate()
    doc["resources"].append(
        {
            "id": "/providers/Microsoft.Management/managementGroups/platform",
            "name": "platform",
            "type": "Microsoft.Management/managementGroups",
            "properties": {
                "displayName": "Platform",
                "children": [
                    {"id": f"/subscriptions/{SUB1}", "name": SUB1, "type": "/subscriptions"},
                    {"id": f"/subscriptions/{SUB3}", "name": SUB3, "type": "/subscriptions"},
                ],
            },
        }
    )
    _, backend = served(doc)

    estate = backend.read_estate(
        Scope(management_group="platform"),
        Needs(resource_types=frozenset({VM}), providers=frozenset({"Microsoft.Compute"})),
        None,
    )

    assert {s.subscription_id for s in estate.subscriptions} == {SUB1, SUB3}
    assert ids(estate.of_type(VM)) == {vm(SUB1, "vm1")["id"].lower(), vm(SUB3, "vm3")["id"].lower()}
    assert estate.subscription(SUB3).provider_state("Microsoft.Compute") == "Registered"  # type: ignore[union-attr]


def test_unknown_management_group_is_a_usage_error(served: Any) -> None:
    _, backend = served(small_estate())

    with pytest.raises(UsageError) as raised:
        backend.read_estate(Scope(management_group="nope"), Needs(), None)

    assert "nope" in str(raised.value)


def test_resolves_builtin_definitions(served: Any) -> None:
    _, backend = served(small_estate())
    role = "/providers/Microsoft.Authorization/roleDefinitions/36243c78-bf99-498c-9df9-86d9f8d28608"

    estate = backend.read_estate(
        Scope(subscriptions=(SUB1,)), Needs(definitions=frozenset({BUILTIN_POLICY, role})), None
    )

    policy = estate.definitions[BUILTIN_POLICY.lower()]
    assert policy["name"] == "59efceea-0c96-497e-a4a1-4eb2290dac15"
    assert "policyRule" in policy["properties"]
    assert estate.definitions[role.lower()]["properties"]["permissions"]


def test_reads_management_group_assignments_that_policy_states_name(served: Any) -> None:
    mg_assignment = f"/providers/Microsoft.Management/managementGroups/platform/providers/{POLICY_ASSIGNMENT}/mg-assess"
    doc = small_estate()
    doc["resources"] += [
        {
            "id": "/providers/Microsoft.Management/managementGroups/platform",
            "name": "platform",
            "type": "Microsoft.Management/managementGroups",
            "properties": {"children": [{"id": f"/subscriptions/{SUB1}", "type": "/subscriptions"}]},
        },
        {
            "id": mg_assignment,
            "name": "mg-assess",
            "type": POLICY_ASSIGNMENT,
            "location": "westeurope",
            "identity": {"type": "SystemAssigned", "principalId": "11111111-1111-1111-1111-111111111111"},
            "properties": {
                "policyDefinitionId": BUILTIN_POLICY,
                "scope": "/providers/Microsoft.Management/managementGroups/platform",
            },
        },
    ]
    doc["policyStates"][0]["policyAssignmentId"] = mg_assignment
    _, backend = served(doc)

    estate = backend.read_estate(
        Scope(subscriptions=(SUB1,)),
        Needs(resource_types=frozenset({POLICY_ASSIGNMENT}), policy_states=True),
        None,
    )

    found = estate.get(mg_assignment)
    assert found is not None
    assert found.identity["principalId"] == "11111111-1111-1111-1111-111111111111"
    assert len(estate.of_type(POLICY_ASSIGNMENT)) == 1


def role_assignment(scope: str, guid: str, principal: str) -> dict[str, Any]:
    return {
        "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}",
        "name": guid,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "scope": scope,
            "principalId": principal,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": f"/subscriptions/{SUB1}/providers/Microsoft.Authorization/roleDefinitions/"
            "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
        },
    }


def test_reads_role_assignments_inherited_from_management_groups(served: Any) -> None:
    principal = "22222222-2222-2222-2222-222222222222"
    group = "/providers/Microsoft.Management/managementGroups/platform"
    inherited = role_assignment(group, "aaaaaaaa-0000-0000-0000-000000000001", principal)
    local = role_assignment(
        f"/subscriptions/{SUB1}/resourceGroups/rg1", "aaaaaaaa-0000-0000-0000-000000000002", principal
    )
    elsewhere = role_assignment(f"/subscriptions/{SUB2}", "aaaaaaaa-0000-0000-0000-000000000003", principal)
    doc = small_estate()
    doc["resources"] += [
        {
            "id": group,
            "name": "platform",
            "type": "Microsoft.Management/managementGroups",
            "properties": {"children": [{"id": f"/subscriptions/{SUB1}", "type": "/subscriptions"}]},
        },
        inherited,
        local,
        elsewhere,
    ]
    _, backend = served(doc)

    estate = backend.read_estate(Scope(subscriptions=(SUB1,)), Needs(resource_types=frozenset({ROLE_ASSIGNMENT})), None)

    assert ids(estate.of_type(ROLE_ASSIGNMENT)) == {inherited["id"].lower(), local["id"].lower()}
    found = estate.get(inherited["id"])
    assert found is not None and found.properties["principalId"] == principal
