"""Management groups through azure-mgmt-managementgroups 2.0.0 (api 2023-04-01)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.managementgroups import ManagementGroupsMgmtClient


def client(served) -> ManagementGroupsMgmtClient:
    return ManagementGroupsMgmtClient(served.credential(), **served.client_kwargs())


def test_list_and_get_with_children(emulator_factory):
    served = emulator_factory("demo")
    groups = client(served).management_groups

    listed = sorted(g.name for g in groups.list())
    root = groups.get("contoso", expand="children")
    plain = groups.get("contoso")
    servers = groups.get("contoso-servers", expand="children")

    assert listed == ["contoso", "contoso-servers"]
    assert root.display_name == "Contoso"
    assert [(c.name, c.type) for c in root.children] == [
        ("contoso-servers", "Microsoft.Management/managementGroups"),
        ("0b7e5c1a-4444-4a8e-9c3d-5f2e8a6b7c04", "/subscriptions"),
    ]
    assert root.children[0].children is None  # one level unless $recurse
    assert not plain.children
    assert servers.details.parent.id == "/providers/Microsoft.Management/managementGroups/contoso"
    assert {c.display_name for c in servers.children} == {"prod-vms", "prod-arc", "branch-arc"}


def test_recurse_expands_the_whole_tree(emulator_factory):
    served = emulator_factory("demo")
    root = client(served).management_groups.get("contoso", expand="children", recurse=True)
    nested = root.children[0].children
    assert sorted(c.display_name for c in nested) == ["branch-arc", "prod-arc", "prod-vms"]


def test_descendants_and_unknown_group(emulator_factory):
    served = emulator_factory("demo")
    descendants = list(client(served).management_groups.get_descendants("contoso"))
    assert len(descendants) == 5  # one group and four subscriptions
    with pytest.raises(HttpResponseError) as caught:
        client(served).management_groups.get("nope")
    assert caught.value.status_code == 404
