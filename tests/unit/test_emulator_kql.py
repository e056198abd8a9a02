"""The KQL subset: parsing, operators and semantics, against in-memory tables."""

from __future__ import annotations

import pytest

from remediator.emulator.graph.functions import KqlError
from remediator.emulator.graph.parser import compile_query, evaluate

ROWS = [
    {
        "id": "/a/VM1",
        "name": "vm1",
        "type": "microsoft.compute/virtualmachines",
        "tags": {"env": "Prod"},
        "properties": {"osType": "Windows", "size": 4, "extended": {"state": "PowerState/running"}},
    },
    {
        "id": "/a/vm2",
        "name": "vm2",
        "type": "microsoft.compute/virtualmachines",
        "tags": {},
        "properties": {"osType": "Linux", "size": 16},
    },
    {
        "id": "/b/arc1",
        "name": "arc1",
        "type": "microsoft.hybridcompute/machines",
        "tags": {"env": "dev-test"},
        "properties": {"osType": "linux", "size": 2},
    },
]
OTHER = [{"id": "/c/rg", "name": "rg", "type": "microsoft.resources/subscriptions/resourcegroups"}]


def run(text: str) -> list[dict]:
    tables = {"resources": ROWS, "resourcecontainers": OTHER}
    return evaluate(compile_query(text), lambda name, hint: tables[name])


def names(text: str) -> list[str]:
    return [row["name"] for row in run(text)]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("type == 'microsoft.compute/virtualmachines'", ["vm1", "vm2"]),
        ("type == 'Microsoft.Compute/virtualMachines'", []),
        ("type =~ 'Microsoft.Compute/virtualMachines'", ["vm1", "vm2"]),
        ("type !~ 'Microsoft.Compute/virtualMachines'", ["arc1"]),
        ("name != 'vm1'", ["vm2", "arc1"]),
        ("properties.osType in ('linux', 'Windows')", ["vm1", "arc1"]),
        ("properties.osType in~ ('linux', 'windows')", ["vm1", "vm2", "arc1"]),
        ("properties.osType !in~ ('linux')", ["vm1"]),
        ("properties.osType !in ('linux')", ["vm1", "vm2"]),
        ("tags.env has 'test'", ["arc1"]),
        ("tags.env has 'tes'", []),
        ("tags.env contains 'tes'", ["arc1"]),
        ("tags['env'] startswith 'pro'", ["vm1"]),
        ("isempty(tags.env)", ["vm2"]),
        ("isnotempty(properties.extended)", ["vm1"]),
        ("not(name == 'vm1') and properties.size > 4", ["vm2"]),
        ("name == 'vm1' or properties.size <= 2", ["vm1", "arc1"]),
        ("tolower(id) == '/a/vm1'", ["vm1"]),
        ("tostring(properties.size) == '16'", ["vm2"]),
        ("tags.missing != 'x'", ["vm1", "vm2", "arc1"]),
    ],
)
def test_where_semantics(where, expected):
    assert names(f"resources | where {where}") == expected


def test_project_with_names_paths_and_extend():
    rows = run(
        "resources | where name == 'vm1' | extend os = tolower(properties.osType) "
        "| project name, os, properties.size, env = tags['env']"
    )
    assert rows == [{"name": "vm1", "os": "windows", "properties_size": 4, "env": "Prod"}]


def test_project_away_limit_take_and_order():
    assert names("resources | order by name asc | take 2") == ["arc1", "vm1"]
    assert names("resources | sort by properties.size") == ["vm2", "vm1", "arc1"]  # desc by default
    assert names("resources | order by type asc, name desc | limit 3") == ["vm2", "vm1", "arc1"]
    assert names("resources | order by properties.osType asc") == ["vm2", "vm1", "arc1"]  # ordinal: 'L' < 'W' < 'l'
    assert "properties" not in run("resources | project-away properties, tags")[0]


def test_union_as_source_and_operator():
    assert names("union resources, (resourcecontainers | where name == 'rg') | where name in ('rg', 'arc1')") == [
        "arc1",
        "rg",
    ]
    assert names("resourcecontainers | union (resources | where name == 'vm2')") == ["rg", "vm2"]


def test_input_rows_are_not_mutated():
    run("resources | extend name = 'x' | project name")
    assert ROWS[0]["name"] == "vm1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("resources | summarize count() by type", "unsupported KQL operator 'summarize'"),
        ("resources | join kind=inner (resources) on id", "unsupported KQL operator 'join'"),
        ("resources | where name matches regex 'x'", "unsupported KQL construct 'matches'"),
        ("resources | extend k = bag_keys(tags)", "unsupported KQL function 'bag_keys'"),
        ("resources | project tolower(name)", "needs a name"),
        ("resources | where name == 'x' |", "ends too early"),
        ("resources | where name % 2", "unexpected character '%'"),
    ],
)
def test_unsupported_constructs_are_named(text, message):
    with pytest.raises(KqlError, match=message):
        run(text)


def test_every_query_shape_the_bot_sends_is_inside_the_subset():
    from remediator.azure.resource_graph import build_query, group_by_table
    from remediator.emulator.graph.tables import TABLES

    types = [
        "microsoft.compute/virtualmachines",
        "microsoft.hybridcompute/machines",
        "microsoft.maintenance/configurationassignments",
        "microsoft.compute/virtualmachines/patchassessmentresults",
        "microsoft.hybridcompute/machines/patchinstallationresults",
        "microsoft.policyinsights/policystates",
        "microsoft.authorization/roleassignments",
        "microsoft.management/managementgroups",
    ]
    tables = {"resources": ROWS, "resourcecontainers": OTHER}
    for table, grouped in group_by_table(types).items():
        assert table in TABLES
        rows = evaluate(compile_query(build_query(table, grouped)), lambda name, hint: tables.get(name, ROWS))
        assert all(row["type"] in grouped for row in rows)


def test_a_leading_type_filter_is_passed_to_the_table_as_a_hint():
    hints: list[frozenset[str] | None] = []

    def tables(name: str, hint: frozenset[str] | None) -> list[dict]:
        hints.append(hint)
        return ROWS

    queries = {
        "resources | where type in~ ('Microsoft.Compute/virtualMachines', 'x/y') | project id": {
            "microsoft.compute/virtualmachines",
            "x/y",
        },
        "resources | where type =~ 'A/B' and name == 'vm1'": {"a/b"},
        "resources | where type == 'a/b' or type == 'c/d'": {"a/b", "c/d"},
        "resources | where type == 'a/b' or name == 'vm1'": None,
        "resources | extend type = 'x' | where type == 'x'": None,
        "resources | where tags.type == 'a/b'": None,
    }
    for text, expected in queries.items():
        evaluate(compile_query(text), tables)
        assert hints.pop() == (frozenset(expected) if expected is not None else None), text
