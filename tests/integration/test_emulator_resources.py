"""Generic ARM resources by id through ResourceManagementClient: GET/PUT/PATCH/DELETE, LROs, 404s."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import GenericResource

TENANT = "aaaaaaaa-0000-4000-8000-000000000003"
SUB = "cccccccc-0000-4000-8000-000000000001"
NO_COMPUTE = "cccccccc-0000-4000-8000-000000000002"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-app"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm1"
COMPUTE = "2024-07-01"


def estate() -> dict:
    return {
        "tenantId": TENANT,
        "subscriptions": [
            {"subscriptionId": SUB},
            {"subscriptionId": NO_COMPUTE, "providers": {"Microsoft.Compute": "NotRegistered"}},
        ],
        "resources": [
            {
                "id": VM,
                "location": "westeurope",
                "tags": {"env": "prod"},
                "properties": {
                    "vmId": "3c9d2e1f-0001-4b5a-9e8d-6f7a8b9c0d01",
                    "futureField": {"kept": True},
                    "osProfile": {"windowsConfiguration": {"patchSettings": {"patchMode": "AutomaticByOS"}}},
                    "instanceView": {"statuses": [{"code": "PowerState/running", "level": "Info"}]},
                },
            }
        ],
    }


@pytest.fixture
def served(emulator_factory):
    return emulator_factory(estate(), lro_polls=2, page_size=2)


def rm(served, subscription: str = SUB) -> ResourceManagementClient:
    return ResourceManagementClient(served.credential(), subscription, **served.client_kwargs())


def test_get_serves_instance_view_only_when_expanded_and_keeps_unknown_fields(served):
    resources = rm(served).resources
    plain = resources.get_by_id(VM, api_version=COMPUTE)
    assert "instanceView" not in plain.properties
    assert plain.properties["futureField"] == {"kept": True}
    assert plain.type == "Microsoft.Compute/virtualMachines"

    expanded = served.arm("GET", VM, params={"api-version": COMPUTE, "$expand": "instanceView"}).json()
    assert expanded["properties"]["instanceView"]["statuses"][0]["code"] == "PowerState/running"


def test_patch_is_a_long_running_merge(served):
    poller = rm(served).resources.begin_update_by_id(
        VM,
        api_version=COMPUTE,
        parameters=GenericResource(
            properties={"osProfile": {"windowsConfiguration": {"patchSettings": {"patchMode": "AutomaticByPlatform"}}}}
        ),
    )
    result = poller.result()

    stored = served.emulator.get(VM)
    assert result.properties["osProfile"]["windowsConfiguration"]["patchSettings"]["patchMode"] == "AutomaticByPlatform"
    assert stored["properties"]["provisioningState"] == "Succeeded"
    assert stored["properties"]["futureField"] == {"kept": True}  # merge keeps untouched fields
    assert stored["properties"]["instanceView"]["statuses"][0]["code"] == "PowerState/running"
    assert stored["tags"] == {"env": "prod"}
    polls = [e for e in served.emulator.request_log if e.route == "operation_status"]
    assert len(polls) == 2


def test_patch_tags_replaces_the_whole_tag_set(served):
    rm(served).resources.begin_update_by_id(
        VM, api_version=COMPUTE, parameters=GenericResource(tags={"owner": "ops"})
    ).result()
    assert served.emulator.get(VM)["tags"] == {"owner": "ops"}


def test_put_creates_and_delete_removes_with_long_running_operations(served):
    resources = rm(served).resources
    new_id = f"{RG}/providers/Microsoft.Compute/disks/data1"
    created = resources.begin_create_or_update_by_id(
        new_id,
        api_version=COMPUTE,
        parameters=GenericResource(location="westeurope", properties={"diskSizeGB": 64}),
    ).result()
    assert created.id == new_id
    shouted = new_id.upper().replace("SUBSCRIPTIONS", "subscriptions")
    assert served.emulator.get(shouted)["properties"]["diskSizeGB"] == 64

    resources.begin_delete_by_id(new_id, api_version=COMPUTE).result()
    assert served.emulator.get(new_id) is None


def test_put_to_an_unregistered_namespace_is_409_missing_subscription_registration(served):
    resources = rm(served, NO_COMPUTE).resources
    group = f"/subscriptions/{NO_COMPUTE}/resourceGroups/rg1"
    resources.begin_create_or_update_by_id(
        group, api_version="2025-04-01", parameters=GenericResource(location="westeurope")
    ).result()
    with pytest.raises(HttpResponseError) as caught:
        resources.begin_create_or_update_by_id(
            f"{group}/providers/Microsoft.Compute/disks/d1",
            api_version=COMPUTE,
            parameters=GenericResource(location="westeurope"),
            polling=False,
        )
    assert caught.value.status_code == 409
    assert caught.value.error.code == "MissingSubscriptionRegistration"


@pytest.mark.parametrize(
    ("resource_id", "code"),
    [
        (f"{RG}/providers/Microsoft.Compute/virtualMachines/nope", "ResourceNotFound"),
        (
            f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/vm1",
            "ResourceGroupNotFound",
        ),
        (VM.replace(SUB, "cccccccc-0000-4000-8000-0000000000ff"), "SubscriptionNotFound"),
    ],
)
def test_missing_things_are_404_with_arm_codes(served, resource_id, code):
    with pytest.raises(ResourceNotFoundError) as caught:
        rm(served).resources.get_by_id(resource_id, api_version=COMPUTE)
    assert caught.value.error.code == code


def test_wrong_api_version_for_the_type_is_400(served):
    with pytest.raises(HttpResponseError) as caught:
        rm(served).resources.get_by_id(VM, api_version="2011-01-01")
    assert caught.value.error.code == "InvalidApiVersionParameter"


def test_resource_group_list_pages_with_next_link(served):
    client = rm(served)
    for name in ("rg-b", "rg-c", "rg-d"):
        client.resource_groups.create_or_update(name, {"location": "westeurope"})
    names = [g.name for g in client.resource_groups.list()]
    assert sorted(names) == ["rg-app", "rg-b", "rg-c", "rg-d"]
    pages = [e for e in served.emulator.request_log if e.route == "list_resource_groups"]
    assert len(pages) == 2  # page_size=2: the SDK followed one nextLink
    assert client.resource_groups.get("RG-APP").name == "rg-app"  # ids are case-insensitive


def test_collection_list_of_a_type_in_a_resource_group(served):
    response = served.arm("GET", f"{RG}/providers/Microsoft.Compute/virtualMachines", params={"api-version": COMPUTE})
    assert [vm["name"] for vm in response.json()["value"]] == ["vm1"]


def test_resources_list_with_filters(served):
    client = rm(served)
    client.resources.begin_create_or_update_by_id(
        f"{RG}/providers/Microsoft.Compute/disks/d1",
        api_version=COMPUTE,
        parameters=GenericResource(location="northeurope", tags={"owner": "ops"}),
    ).result()

    everything = sorted(r.name for r in client.resources.list())
    vms = [r.name for r in client.resources.list(filter="resourceType eq 'microsoft.compute/virtualMachines'")]
    tagged = [
        r.name
        for r in client.resources.list_by_resource_group("rg-app", filter="tagName eq 'owner' and tagValue eq 'ops'")
    ]
    assert everything == ["d1", "vm1"]
    assert vms == ["vm1"]
    assert tagged == ["d1"]
    with pytest.raises(HttpResponseError) as caught:
        list(client.resources.list(filter="substringof('vm', name)"))
    assert caught.value.error.code == "InvalidFilterInQueryString"


def test_location_and_async_operation_urls_report_progress_then_the_result(served):
    accepted = served.arm("DELETE", VM, params={"api-version": COMPUTE})
    location, status_url = accepted.headers["Location"], accepted.headers["Azure-AsyncOperation"]
    path = location.removeprefix(served.endpoint.url)

    first = served.arm("GET", path)  # poll 1 of lro_polls=2
    status = served.arm("GET", status_url.removeprefix(served.endpoint.url))  # poll 2: done
    final = served.arm("GET", path)

    assert accepted.status_code == 202
    assert served.emulator.get(VM) is None
    assert (first.status_code, first.headers["Location"].split("?")[0]) == (202, location.split("?")[0])
    assert status.json()["status"] == "Succeeded"
    assert final.status_code == 204
