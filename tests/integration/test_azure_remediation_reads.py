"""The inventory expands failed remediations with their deployments (listDeployments)."""

from __future__ import annotations

from remediator import Needs, Scope
from tests.data.policy import scenarios as sc
from tests.playbook_harness import harness

REMEDIATION = "microsoft.policyinsights/remediations"


def test_a_failed_task_is_read_back_with_the_error_of_each_deployment() -> None:
    with harness(sc.landing_zone(), playbooks=["policy-remediation"]) as h:
        h.apply(h.plan().plan)  # the old assignment's identity lacks roles: its task fails
        estate = h.engine.backend.read_estate(Scope(), Needs(resource_types=frozenset({REMEDIATION})), None)
        remediations = estate.of_type(REMEDIATION)
        failed = [r for r in remediations if r.properties.get("provisioningState") == "Failed"]
        assert failed, [r.properties.get("provisioningState") for r in remediations]
        errors = [d["error"] for r in failed for d in r.properties["deployments"] if d.get("error")]
        assert any(e["code"] == "AuthorizationFailed" and sc.P_OLD in e["message"] for e in errors)
        # A task that succeeded is not expanded: one listDeployments per failed task only.
        lists = [e for e in h.emulator.request_log if e.path.lower().endswith("/listdeployments")]
        assert len(lists) == len(failed) + len(remediations)  # the apply read each task once, the inventory the failed
        assert all("deployments" not in r.properties for r in remediations if r not in failed)
