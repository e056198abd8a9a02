"""Issue 9's "done when" for policy, and the bot's convergence under Azure's consistency model.

Azure does not flip a machine's compliance when a remediation deployment succeeds: it re-evaluates
the machine about 15 minutes later (get-compliance-data.md, "Evaluation triggers"). A bot that
reads the state right after its own tasks must not start them again.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc
from tests.e2e.test_policy_playbooks import _export
from tests.playbook_harness import harness

REMEDIATOR = [sys.executable, "-c", "from remediator.cli import main; main()"]
BOTH = ["policy-identity-roles", "policy-remediation"]
CONSISTENCY = ("--consistency", "azure")
WRITES = ("PUT", "PATCH", "DELETE", "POST")


class ServedProcess:
    """`remediator emulator serve --consistency azure` in another process, with its request log."""

    def __init__(self, estate: dict[str, Any], folder: Path) -> None:
        path = folder / "estate.json"
        path.write_text(json.dumps(estate))
        self.log_path = folder / "requests.jsonl"
        self.process = subprocess.Popen(
            [
                *REMEDIATOR,
                "emulator",
                "serve",
                "--estate",
                str(path),
                *CONSISTENCY,
                "--request-log",
                str(self.log_path),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.env: dict[str, str] = {}
        self.banner = ""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("emulator serving"):
                self.banner = line.strip()
            if line.startswith("export "):
                key, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
                self.env[key] = value
            if line.startswith("press Ctrl+C"):
                break

    def mark(self, name: str) -> None:
        """A request the log shows between two runs (unauthenticated: it changes nothing)."""
        requests.get(
            f"{self.env['REMEDIATOR_ARM_ENDPOINT']}/{name}", verify=self.env["REMEDIATOR_CA_BUNDLE"], timeout=30
        )

    def stop(self) -> list[dict[str, Any]]:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=30)
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedProcess]:
    # The identity already holds what its definition names (role propagation is another test's
    # subject): what is left are the machines policy missed.
    estate = _granted()
    # No "now": the emulator's clock is the wall clock, as the bot's is (tenant and bot share time).
    estate.pop("now", None)
    process = ServedProcess(estate, tmp_path)
    try:
        yield process
    finally:
        process.stop()


def _bot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REMEDIATOR_", "IDENTITY_", "MSI_"))}
    return subprocess.run([*REMEDIATOR, *args], env={**clean, **env}, capture_output=True, text=True, timeout=300)


# POSTs that only read: tokens, Resource Graph, policy states, a task's deployments.
READ_POSTS = ("token-authority", "resource_graph", "query_policy_states", "list_deployments")


def _writes(entries: list[dict[str, Any]]) -> list[str]:
    return [
        f"{e['method']} {e['path']}"
        for e in entries
        if e["method"] in ("PUT", "PATCH", "DELETE")
        or (e["method"] == "POST" and not any(name in e["route"] for name in READ_POSTS))
    ]


def test_two_runs_in_a_row_against_serve_azure_both_exit_0_and_the_second_writes_nothing(
    served: ServedProcess, tmp_path: Path
) -> None:
    assert served.banner.endswith("(consistency: azure)")
    config = tmp_path / "settings.yaml"
    config.write_text("apply:\n  poll_seconds: 0.1\n")
    args = ["run", "--config", str(config), *(a for p in BOTH for a in ("--playbook", p)), "--format", "json"]
    first = _bot(args, served.env)
    assert first.returncode == 0, first.stderr[-3000:]
    doc = json.loads(first.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    assert doc["plan_after_apply"]["changes"] == []
    awaiting = [f for f in doc["plan_after_apply"]["findings"] if "Awaiting evaluation" in f["detail"]]
    assert {f["resource_id"].rsplit("/", 1)[-1] for f in awaiting} == {"vm-restored", "vm-gallery"}
    served.mark("between-runs")
    second = _bot(args, served.env)
    assert second.returncode == 0, second.stderr[-3000:]
    assert json.loads(second.stdout)["changes"] == []
    log = served.stop()
    cut = next(i for i, e in enumerate(log) if e["path"] == "/between-runs")
    assert _writes(log[:cut])  # the first run did write: roles, then tasks
    assert _writes(log[cut + 1 :]) == []
    tasks = Counter(
        e["path"].lower().split("/remediations/", 1)[1]
        for e in log
        if e["method"] == "PUT" and "/providers/microsoft.policyinsights/remediations/" in e["path"].lower()
    )
    assert tasks and all(n == 1 for n in tasks.values()), tasks
    assert not any(name.rsplit("-", 1)[-1].isdigit() and len(name.rsplit("-", 1)[-1]) < 3 for name in tasks)


# --- the same, in-process, step by step ----------------------------------------------------------


def _remediation_puts(emulator: Any) -> list[str]:
    return [
        e.path.rsplit("/", 1)[-1]
        for e in emulator.request_log
        if e.method == "PUT" and "/providers/microsoft.policyinsights/remediations/" in e.path.lower()
    ]


def test_a_run_starts_each_task_once_and_never_retries_a_failure_in_the_same_run() -> None:
    """The repro of issue 9: states held back for the run used to give aum-…-2, aum-…-3 tasks."""
    with harness(sc.landing_zone(), ["policy-remediation"]) as h:
        result = h.engine.run(h.scope, h.now, rounds=3)
        puts = _remediation_puts(h.emulator)
    assert len(puts) == len(set(puts)) == 2, puts
    replan = result.plan.replan
    assert replan is not None and replan.changes == ()
    earlier = {
        f.resource_id.rsplit("/", 1)[-1]: f.data["earlier_task"]
        for f in replan.findings
        if f.key == f"{sc.A_OLD['id'].lower()}|"
    }
    # vm-gallery's deployment failed for a missing role: it backs off, and says why.
    assert earlier["vm-gallery"]["status"] == "backing-off"
    assert earlier["vm-gallery"]["cause"].startswith("AuthorizationFailed: ")
    assert "galleries/images/versions/read" in earlier["vm-gallery"]["cause"]
    assert earlier["vm-restored"]["status"] == "awaiting-evaluation"
    restored = next(
        f for f in replan.findings if f.key == f"{sc.A_OLD['id'].lower()}|" and "vm-restored" in f.resource_id
    )
    assert "Awaiting evaluation: its deployment in remediation task" in restored.detail


def test_a_failed_task_is_re_run_under_its_own_name_once_its_back_off_has_passed() -> None:
    data = sc.landing_zone()
    only_gallery = [
        s
        for s in data["policyStates"]
        if not (s["resourceId"] == sc.VM_RESTORED["id"] and s["policyAssignmentId"] == sc.A_OLD["id"])
    ]
    data["policyStates"] = only_gallery
    with harness(data, ["policy-remediation"]) as h:
        plan = h.plan().plan
        [task] = [c for c in plan.changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]]
        h.apply(plan)
        h.emulator.advance(timedelta(hours=1))
        later = _export(h.emulator, now="2026-11-26T10:00:00Z")
    # An hour later (back-off 6 h): nothing; seven hours later: the same task, re-run by name.
    with harness(later, ["policy-remediation"]) as h2:
        assert [c for c in h2.plan().plan.changes if c.resource_id.lower() == task.resource_id.lower()] == []
    later["now"] = "2026-11-26T16:00:00Z"
    with harness(later, ["policy-remediation"]) as h3:
        again = [
            c for c in h3.plan().plan.changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]
        ]
        assert [c.resource_id for c in again] == [task.resource_id]
        h3.apply(h3.plan().plan)
        assert _remediation_puts(h3.emulator) == [task.params["name"]]


def _with_task(state: str, ended: str, filters: dict[str, Any] | None = None) -> dict[str, Any]:
    data = sc.landing_zone()
    data["resources"].append(
        {
            "id": f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/by-hand",
            "type": "Microsoft.PolicyInsights/remediations",
            "properties": {
                "policyAssignmentId": sc.A_OLD["id"],
                "provisioningState": state,
                "filters": filters or {"locations": []},
                "createdOn": ended,
                "lastUpdatedOn": ended,
                "deploymentStatus": {"totalDeployments": 2, "successfulDeployments": 2, "failedDeployments": 0},
            },
        }
    )
    return data


def test_a_complete_task_is_a_success_whose_machines_await_evaluation() -> None:
    """remediation-structure.md: Complete is a terminal state like Succeeded, not a failure."""
    with harness(_with_task("Complete", "2026-11-26T08:50:00Z"), ["policy-remediation"]) as h:
        plan = h.plan().plan
    assert not [c for c in plan.changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]]
    covered = [f for f in plan.findings if f.key == f"{sc.A_OLD['id'].lower()}|"]
    assert {f.data["earlier_task"]["status"] for f in covered} == {"awaiting-evaluation"}
    assert all("ended Complete at 2026-11-26T08:50:00Z" in f.detail for f in covered)
    # Past the evaluation window (30 min) and still non-compliant: planned again.
    with harness(_with_task("Complete", "2026-11-26T08:00:00Z"), ["policy-remediation"]) as h:
        plan = h.plan().plan
    assert [c for c in plan.changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]]


def test_a_machine_outside_a_recent_tasks_resource_ids_still_gets_its_task() -> None:
    """Tasks are listed at 2024-10-01, whose filters.resourceIds say which machines they cover."""
    data = _with_task("Succeeded", "2026-11-26T08:55:00Z", {"resourceIds": [sc.VM_RESTORED["id"]]})
    with harness(data, ["policy-remediation"]) as h:
        plan = h.plan().plan
    [task] = [c for c in plan.changes if c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]]
    assert task.params["resource_ids"] == [sc.VM_GALLERY["id"]]
    restored = next(
        f for f in plan.findings if f.key == f"{sc.A_OLD['id'].lower()}|" and "vm-restored" in f.resource_id
    )
    assert restored.data["earlier_task"]["status"] == "awaiting-evaluation"


def _granted() -> dict[str, Any]:
    """The landing zone, with the old assignment's identity already holding what its definition names."""
    data = sc.landing_zone()
    data["resources"] += [
        b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "0c0c0c0c-0000-4000-8000-000000000001"),
        b.role_assignment(sc.IMAGE_DEFINITION_ID, sc.P_OLD, b.CONTRIBUTOR, "0c0c0c0c-0000-4000-8000-000000000002"),
    ]
    return data


def test_a_compliance_scan_that_outlasts_its_wait_is_reported_as_timed_out_once_per_scope() -> None:
    options = {"policy-remediation": {"trigger_evaluation": True, "evaluation_scan_wait_seconds": 0.2}}
    with harness(_granted(), ["policy-remediation"], options=options) as h:
        plan = h.plan().plan
        assert len([c for c in plan.changes if c.action == "create-remediation"]) == 2  # both in one subscription
        applied = h.apply(plan)
        scans = [e for e in h.emulator.request_log if e.path.lower().endswith("/triggerevaluation")]
    assert {o.status for o in applied.outcomes} == {"applied"}
    details = " ".join(o.detail or "" for o in applied.outcomes)
    assert f"compliance scan of {b.sub_id(b.S1)} timed out after 0.2s" in details
    assert "already requested in this run" in details
    assert "completed" not in details and "evaluation triggered" not in details
    assert len(scans) == 1
