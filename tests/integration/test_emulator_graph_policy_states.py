"""Resource Graph's policy-state rows carry the assignment's scope and the member's effect, as ARG does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

QUERY = (
    "policyresources | where type =~ 'microsoft.policyinsights/policystates' "
    "| extend assignment = tolower(tostring(properties.policyAssignmentId)), "
    "reference = tostring(properties.policyDefinitionReferenceId), "
    "action = tostring(properties.policyDefinitionAction), scope = tostring(properties.policyAssignmentScope) "
    "| project assignment, reference, action, scope"
)


def _rows(served: Served) -> set[tuple[str, str, str, str]]:
    graph = ResourceGraphClient(served.credential(), **served.client_kwargs())
    rows: list[dict[str, Any]] = graph.resources(QueryRequest(subscriptions=[b.S1], query=QUERY)).data
    return {(r["assignment"], r["reference"], r["action"], r["scope"]) for r in rows}


def test_rows_carry_the_assignment_scope_and_the_lowercase_effect(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone())
    assert _rows(served) == {
        # The built-in assessment policy's rule is a plain 'modify'.
        (sc.A_OLD["id"].lower(), "", "modify", b.sub_id(b.S1)),
        (sc.A_NO_IDENTITY["id"].lower(), "", "modify", b.sub_id(b.S1)),
        (sc.A_NON_AUM["id"].lower(), "", "modify", b.sub_id(b.S1)),
        # The assignment's effect parameter, lowercased.
        (sc.A_DISABLED["id"].lower(), "", "disabled", b.rg_id(b.S1, "vms")),
        # Initiative members: the initiative's parameter default and the member's own default.
        (sc.A_MG["id"].lower(), "prereq", "deployifnotexists", b.MG_ID),
        (sc.A_MG["id"].lower(), "audit", "audit", b.MG_ID),
    }


def test_a_changed_effect_parameter_shows_in_later_queries(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone())
    assert (sc.A_DISABLED["id"].lower(), "", "disabled", b.rg_id(b.S1, "vms")) in _rows(served)
    body = {key: sc.A_DISABLED[key] for key in ("location", "identity") if key in sc.A_DISABLED} | {
        "properties": {**sc.A_DISABLED["properties"], "parameters": {"effect": {"value": "DeployIfNotExists"}}}
    }
    answer = served.arm("PUT", sc.A_DISABLED["id"], params={"api-version": "2023-04-01"}, json=body)
    assert answer.status_code in (200, 201), answer.text
    assert (sc.A_DISABLED["id"].lower(), "", "deployifnotexists", b.rg_id(b.S1, "vms")) in _rows(served)


def test_a_record_of_an_assignment_the_estate_lacks_keeps_its_own_values(
    emulator_factory: Callable[..., Served],
) -> None:
    gone = f"{b.sub_id(b.S1)}/providers/Microsoft.Authorization/policyAssignments/exported-only"
    estate = sc.landing_zone()
    estate["policyStates"].append(
        {
            **b.state(sc.VM_OK, {"id": gone}, b.PREREQUISITES),
            "policyAssignmentScope": b.sub_id(b.S1),
            "policyDefinitionAction": "DeployIfNotExists",
        }
    )
    served = emulator_factory(estate)
    assert (gone.lower(), "", "deployifnotexists", b.sub_id(b.S1)) in _rows(served)
