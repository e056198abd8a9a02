"""stale-assessment: which machines have periodic assessment on through policy (pure detect)."""

from __future__ import annotations

from typing import Any

from playbooks.stale_assessment import PLAYBOOK
from remediator import Context, Estate, PolicyState, Resource
from tests.data.extension.estates import SUB, assessment, patch_extension, vm

OLD = "2026-11-23T09:00:00Z"
NOW = "2026-11-26T09:00:00+00:00"


def _policy(name: str, os_type: str | None, **props: Any) -> dict[str, Any]:
    params = {"osType": {"value": os_type}} if os_type else {}
    return {
        "id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/{name}",
        "name": name,
        "type": "Microsoft.Authorization/policyAssignments",
        "properties": {
            "scope": f"/subscriptions/{SUB}",
            "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/"
            "59efceea-0c96-497e-a4a1-4eb2290dac15",
            "parameters": params,
            **props,
        },
    }


def _machine(name: str, os: str) -> list[dict[str, Any]]:
    machine = vm(name, os=os, assessment_mode="ImageDefault")
    result = assessment(machine)
    result["properties"]["lastModifiedDateTime"] = OLD
    return [machine, patch_extension(machine), result]


def _flagged(*resources: dict[str, Any], states: tuple[PolicyState, ...] = ()) -> set[str]:
    from datetime import datetime

    estate = Estate(
        now=datetime.fromisoformat(NOW), resources=tuple(Resource.from_arm(r) for r in resources), policy_states=states
    )
    return {f.resource_id.rsplit("/", 1)[-1] for f in PLAYBOOK.detect(Context(estate=estate))}


def test_the_policy_covers_the_os_it_names_windows_by_default() -> None:
    machines = [*_machine("win", "Windows"), *_machine("lin", "Linux")]
    assert _flagged(*machines) == set()  # assessmentMode ImageDefault and no policy: periodic is off
    assert _flagged(_policy("default-os", None), *machines) == {"win"}
    assert _flagged(_policy("linux", "Linux"), *machines) == {"lin"}


def test_not_scopes_do_not_enforce_and_non_compliance_leave_machines_uncovered() -> None:
    machines = _machine("win", "Windows")
    rg = machines[0]["id"].split("/providers/")[0]
    assert _flagged(_policy("excluded", None, notScopes=[rg]), *machines) == set()
    assert _flagged(_policy("audit", None, enforcementMode="DoNotEnforce"), *machines) == set()
    policy = _policy("p", None)
    state = PolicyState(machines[0]["id"], policy["id"], policy["properties"]["policyDefinitionId"], "NonCompliant")
    # Non-compliant: the policy has not set it up yet, which is policy-remediation's finding.
    assert _flagged(policy, *machines, states=(state,)) == set()
