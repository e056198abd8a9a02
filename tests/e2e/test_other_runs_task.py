"""Issue 13, defect 9: a run that starts while another run's remediation task is still Running treats
that task as in progress — a finding without a change, exit 0, no second task — not as a failure."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_runner import run_cli
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc


def test_a_run_started_while_the_other_runs_task_is_running_leaves_it_alone(tmp_path: Path) -> None:
    data = sc.landing_zone()
    # The first run's task for the old assignment: created, its deployments under way (ARM's shape).
    theirs = {
        "id": f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/aum-remediator-first-run",
        "name": "aum-remediator-first-run",
        "type": "Microsoft.PolicyInsights/remediations",
        "properties": {
            "policyAssignmentId": sc.A_OLD["id"],
            "provisioningState": "Running",
            "resourceDiscoveryMode": "ExistingNonCompliant",
            # The bot's own tasks name their machines (2024-10-01 filters.resourceIds).
            "filters": {"resourceIds": [sc.VM_RESTORED["id"], sc.VM_GALLERY["id"]]},
            "deploymentStatus": {"totalDeployments": 2, "successfulDeployments": 0, "failedDeployments": 0},
        },
    }
    path = tmp_path / "estate.json"
    path.write_text(json.dumps({**data, "resources": [*data["resources"], theirs]}))
    args = ["run", "--estate", str(path), "--playbook", "policy-identity-roles", "--playbook", "policy-remediation"]
    result = run_cli([*args, "--format", "json"])
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    old = [f for f in doc["findings"] if f["playbook"] == "policy-remediation" and sc.A_OLD["id"] in f["detail"]]
    assert {f["resource_id"] for f in old} == {sc.VM_RESTORED["id"], sc.VM_GALLERY["id"]}
    assert all("aum-remediator-first-run covering it is still running" in f["detail"].lower() for f in old)
    old_ids = {f["id"] for f in old}
    assert not [c for c in doc["changes"] if c["finding_id"] in old_ids]  # no second task for it
    tasks_for_old = [
        c for c in doc["changes"] if c["action"] == "create-remediation" and sc.A_OLD["id"] in json.dumps(c)
    ]
    assert tasks_for_old == []
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}  # nothing failed on the other's task
    assert any(c["action"] == "create-remediation" for c in doc["changes"])  # the other assignment's task ran
    assert doc["plan_after_apply"]["changes"] == []
