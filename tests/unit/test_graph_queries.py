"""Every Resource Graph query the enabled playbooks make the inventory send is inside the
emulator's KQL subset and names a real Resource Graph table."""

from __future__ import annotations

from remediator.azure.referenced_reads import machines_by_name_query
from remediator.azure.resource_graph import (
    NON_COMPLIANT_POLICY_STATES,
    NOT_IN_RESOURCE_GRAPH,
    build_query,
    group_by_table,
)
from remediator.emulator.graph.parser import compile_query
from remediator.emulator.graph.tables import TABLES
from remediator.playbook import Needs, load_playbooks


def test_the_queries_of_all_playbooks_parse_in_the_subset() -> None:
    needs = Needs()
    for playbook in load_playbooks().all():
        needs = needs | playbook.needs
    types = {t.lower() for t in needs.resource_types} | {"microsoft.policyinsights/policystates"}
    types -= NOT_IN_RESOURCE_GRAPH
    grouped = group_by_table(types)
    assert sum(len(v) for v in grouped.values()) == len(types)
    for table, table_types in grouped.items():
        assert table in TABLES
        compile_query(build_query(table, table_types))  # raises KqlError outside the subset
    compile_query(NON_COMPLIANT_POLICY_STATES)
    compile_query(machines_by_name_query(["web01", "o'brien"]))
