"""Resource Graph through ResourceGraphClient (azure-mgmt-resourcegraph 8.0.1, api 2021-03-01)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

TENANT = "aaaaaaaa-0000-4000-8000-000000000004"
PROD = "dddddddd-0000-4000-8000-000000000001"
DEV = "dddddddd-0000-4000-8000-000000000002"
OTHER = "dddddddd-0000-4000-8000-000000000003"
INVENTORY = (
    "resources | where type in~ ('microsoft.compute/virtualmachines', 'microsoft.hybridcompute/machines') "
    "| project id, name, type, location, tags, identity, properties, kind, managedBy, sku, zones, "
    "resourceGroup, subscriptionId, tenantId"
)


def machine(sub: str, name: str, kind: str = "arc", power: str | None = None) -> dict:
    if kind == "arc":
        return {
            "id": f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/{name}",
            "location": "westeurope",
            "properties": {"status": "Connected"},
        }
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/{name}",
        "location": "westeurope",
        "tags": {"env": "prod"},
        "properties": {"instanceView": {"statuses": [{"code": f"PowerState/{power}"}]}},
    }


def estate(arc_machines: int = 3) -> dict:
    return {
        "tenantId": TENANT,
        "subscriptions": [
            {"subscriptionId": PROD, "displayName": "prod"},
            {"subscriptionId": DEV, "displayName": "dev"},
            {"subscriptionId": OTHER, "displayName": "other"},
        ],
        "resources": [
            {
                "id": "/providers/Microsoft.Management/managementGroups/platform",
                "properties": {
                    "displayName": "Platform",
                    "children": [
                        {"id": f"/subscriptions/{PROD}", "type": "/subscriptions"},
                        {
                            "id": "/providers/Microsoft.Management/managementGroups/dev-mg",
                            "type": "Microsoft.Management/managementGroups",
                        },
                    ],
                },
            },
            {
                "id": "/providers/Microsoft.Management/managementGroups/dev-mg",
                "properties": {"displayName": "Dev", "children": [{"id": f"/subscriptions/{DEV}"}]},
            },
            machine(PROD, "vm-running", "vm", "running"),
            machine(DEV, "vm-off", "vm", "deallocated"),
            *[machine(PROD, f"arc{i:04d}") for i in range(arc_machines)],
            {"id": f"/subscriptions/{OTHER}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/s1"},
        ],
    }


def graph(served) -> ResourceGraphClient:
    return ResourceGraphClient(served.credential(), **served.client_kwargs())


def query(served, text: str, **scope) -> list[dict]:
    return graph(served).resources(QueryRequest(query=text, **scope)).data


def test_inventory_query_returns_machines_in_resource_graph_shape(emulator_factory):
    served = emulator_factory(estate())
    rows = query(served, INVENTORY, subscriptions=[PROD])
    vm = next(r for r in rows if r["name"] == "vm-running")

    assert len(rows) == 4
    assert vm["type"] == "microsoft.compute/virtualmachines"
    assert vm["resourceGroup"] == "RG"
    assert vm["subscriptionId"] == PROD
    assert vm["tenantId"] == TENANT
    assert vm["properties"]["extended"]["instanceView"]["powerState"]["code"] == "PowerState/running"
    assert "instanceView" not in vm["properties"]
    assert set(vm) == {
        "id",
        "name",
        "type",
        "location",
        "tags",
        "identity",
        "properties",
        "kind",
        "managedBy",
        "sku",
        "zones",
        "resourceGroup",
        "subscriptionId",
        "tenantId",
    }


def test_scopes_subscriptions_management_groups_and_tenant(emulator_factory):
    served = emulator_factory(estate())
    names = "resources | where type =~ 'Microsoft.Compute/virtualMachines' | project name | order by name asc"
    assert [r["name"] for r in query(served, names, subscriptions=[DEV])] == ["vm-off"]
    assert [r["name"] for r in query(served, names, management_groups=["dev-mg"])] == ["vm-off"]
    assert [r["name"] for r in query(served, names, management_groups=["platform"])] == ["vm-off", "vm-running"]
    assert len(query(served, "resources | project id")) == 6  # tenant: all subscriptions


def test_resource_containers_hold_subscriptions_groups_and_management_groups(emulator_factory):
    served = emulator_factory(estate())
    rows = query(served, "resourcecontainers | project type, name, subscriptionId", management_groups=["platform"])
    kinds = sorted((r["type"], r["name"]) for r in rows)
    assert ("microsoft.management/managementgroups", "dev-mg") in kinds
    assert ("microsoft.resources/subscriptions", "prod") in kinds
    assert ("microsoft.resources/subscriptions/resourcegroups", "RG") in kinds
    assert not [k for k in kinds if k[1] == "other"]


def test_where_extend_project_away_and_limit(emulator_factory):
    served = emulator_factory(estate())
    rows = query(
        served,
        "resources | where isnotempty(tags['env']) and not(name startswith 'arc') "
        "| extend power = tostring(properties.extended.instanceView.powerState.code) "
        "| where power !has 'running' | project-away properties | take 5",
    )
    assert [r["name"] for r in rows] == ["vm-off"]
    assert rows[0]["power"] == "PowerState/deallocated"
    assert "properties" not in rows[0]


def test_paging_across_more_than_1000_rows_with_skip_token(emulator_factory):
    served = emulator_factory(estate(arc_machines=1203))
    client = graph(served)
    text = "resources | where type =~ 'microsoft.hybridcompute/machines' | project id, name"
    first = client.resources(QueryRequest(query=text, subscriptions=[PROD]))
    second = client.resources(
        QueryRequest(query=text, subscriptions=[PROD], options=QueryRequestOptions(skip_token=first.skip_token))
    )
    assert (first.total_records, first.count, second.count) == (1203, 1000, 203)
    assert second.skip_token is None
    names = [r["name"] for r in first.data + second.data]
    assert len(set(names)) == 1203

    small = client.resources(QueryRequest(query=text, subscriptions=[PROD], options=QueryRequestOptions(top=500)))
    assert small.count == 500 and small.skip_token


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("resources | summarize count() by type", "summarize"),
        ("resources | where name matches regex 'x'", "matches"),
        ("resources | extend k = bag_keys(tags)", "bag_keys"),
        ("securityresources | project id", "securityresources"),
    ],
)
def test_unsupported_kql_is_400_naming_the_construct(emulator_factory, text, named):
    served = emulator_factory(estate())
    with pytest.raises(HttpResponseError) as caught:
        query(served, text)
    assert caught.value.status_code == 400
    assert named in caught.value.error.message


def test_top_above_1000_is_refused(emulator_factory):
    served = emulator_factory(estate())
    response = served.arm(
        "POST",
        "/providers/Microsoft.ResourceGraph/resources",
        params={"api-version": "2021-03-01"},
        json={"query": "resources", "options": {"$top": 5000}},
    )
    assert response.status_code == 400
    assert "$top" in response.json()["error"]["message"]


def test_table_result_format(emulator_factory):
    served = emulator_factory(estate())
    response = graph(served).resources(
        QueryRequest(
            query="resources | where name == 'vm-off' | project name, subscriptionId",
            options=QueryRequestOptions(result_format="table"),
        )
    )
    assert response.data["columns"] == [
        {"name": "name", "type": "string"},
        {"name": "subscriptionId", "type": "string"},
    ]
    assert response.data["rows"] == [["vm-off", DEV]]


def test_writes_show_up_in_later_queries(emulator_factory):
    served = emulator_factory(estate())
    vm = f"/subscriptions/{PROD}/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm-running"
    text = "resources | where name == 'vm-running' | project tags"
    assert query(served, text)[0]["tags"] == {"env": "prod"}
    served.arm("PATCH", vm, params={"api-version": "2024-07-01"}, json={"tags": {"env": "dev"}})
    assert query(served, text)[0]["tags"] == {"env": "dev"}


def test_remediations_are_in_no_resource_graph_table(emulator_factory):
    """Microsoft's table reference lists no table for microsoft.policyinsights/remediations."""
    data = estate()
    data["resources"].append(
        {
            "id": f"/subscriptions/{PROD}/providers/Microsoft.PolicyInsights/remediations/r1",
            "properties": {"policyAssignmentId": "/x", "provisioningState": "Succeeded"},
        }
    )
    served = emulator_factory(data)
    for table in ("policyresources", "resources"):
        text = f"{table} | where type =~ 'microsoft.policyinsights/remediations' | project id"
        assert query(served, text, subscriptions=[PROD]) == []
    assert query(served, "resources | where name =~ 'vm-running' | project id", subscriptions=[PROD])


def test_management_groups_carry_their_ancestors_never_their_children(emulator_factory):
    # Resource Graph's rows, as Microsoft's samples read them (management-groups/resource-graph-samples):
    # a group's properties.details.parent and details.managementGroupAncestorsChain, a subscription's
    # properties.managementGroupAncestorsChain, each parent first, up to the tenant root group.
    served = emulator_factory(estate())
    tenant = served.endpoint.tenant_id
    rows = {r["name"]: r for r in query(served, "resourcecontainers | project name, type, properties")}
    dev_mg, platform = rows["dev-mg"]["properties"], rows["platform"]["properties"]

    assert "children" not in dev_mg and "children" not in platform
    assert dev_mg["details"]["parent"]["id"] == "/providers/Microsoft.Management/managementGroups/platform"
    assert [g["name"] for g in dev_mg["details"]["managementGroupAncestorsChain"]] == ["platform", tenant]
    assert platform["details"]["parent"] == {
        "id": f"/providers/Microsoft.Management/managementGroups/{tenant}",
        "name": tenant,
        "displayName": "Tenant Root Group",
    }
    assert [g["name"] for g in rows["dev"]["properties"]["managementGroupAncestorsChain"]] == [
        "dev-mg",
        "platform",
        tenant,
    ]
    assert rows["prod"]["properties"]["managementGroupAncestorsChain"][0] == {
        "name": "platform",
        "displayName": "Platform",
    }
    # A subscription no group lists sits under the root, as new subscriptions do.
    assert [g["name"] for g in rows["other"]["properties"]["managementGroupAncestorsChain"]] == [tenant]


def test_too_many_subscriptions_under_a_scope_is_refused_unless_partial_scopes_are_allowed(
    emulator_factory, monkeypatch
):
    # The service's answer as quoted in Azure/cosmos-explorer issue 1986; the limit is lowered here.
    from remediator.emulator.graph import routes

    monkeypatch.setattr(routes, "SUBSCRIPTIONS_UNDER_SCOPE_LIMIT", 1)
    served = emulator_factory(estate())
    names = "resources | where type =~ 'Microsoft.Compute/virtualMachines' | project name | order by name asc"
    for scope in ({"management_groups": ["platform"]}, {}):
        with pytest.raises(HttpResponseError) as refused:
            query(served, names, **scope)
        assert refused.value.status_code == 400
        assert "TooManySubscriptionsUnderScope" in str(refused.value)
    partial = QueryRequestOptions(allow_partial_scopes=True)
    rows = graph(served).resources(QueryRequest(query=names, management_groups=["platform"], options=partial)).data
    assert len(rows) == 1  # one of the two subscriptions under the group, not both
    assert [r["name"] for r in query(served, names, subscriptions=[PROD, DEV])] == ["vm-off", "vm-running"]
