"""A role grant that failed holds back the remediation tasks that need it (issue 13, defect 7): they are
skipped with the reason, not started to fail with AuthorizationFailed on every run."""

from __future__ import annotations

from typing import Any

from tests.data.policy import scenarios as sc
from tests.playbook_harness import harness

BOTH = ["policy-identity-roles", "policy-remediation"]


def _denied_grants() -> dict[str, Any]:
    estate = sc.landing_zone()
    fault = {"route": "/providers/Microsoft.Authorization/roleAssignments/", "method": "PUT", "status": 403}
    estate["emulator"] = {**estate.get("emulator", {}), "faults": [{**fault, "code": "AuthorizationFailed"}]}
    return estate


def test_a_failed_grant_holds_back_its_assignments_tasks_and_only_those() -> None:
    with harness(_denied_grants(), playbooks=BOTH) as h:
        plan = h.plan().plan
        applied = h.apply(plan)
        outcome = {o.change_id: o for o in applied.outcomes}
        grants = [c for c in plan.changes if c.action == "create-role-assignment"]
        tasks = {
            c.params["body"]["properties"]["policyAssignmentId"]: c
            for c in plan.changes
            if c.action == "create-remediation"
        }
        assert grants and all(outcome[c.id].status == "failed" for c in grants)
        held = outcome[tasks[sc.A_OLD["id"]].id]
        assert held.status == "skipped"
        assert held.detail.startswith("held back: ")
        assert any(c.id in held.detail for c in grants if c.params["principal_id"] == sc.P_OLD)
        # No task was created for that assignment: nothing was started to fail.
        remediations = h.emulator.state.store.of_type("Microsoft.PolicyInsights/remediations")
        assert not [r for r in remediations if r["properties"]["policyAssignmentId"] == sc.A_OLD["id"]]
        # The management group's initiative needs no grant from this run: its task went ahead.
        assert outcome[tasks[sc.A_MG["id"]].id].status == "applied"
