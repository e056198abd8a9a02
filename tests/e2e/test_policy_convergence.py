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
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

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
    estate = sc.landing_zone()
    # No "now": the emulator's clock is the wall clock, as the bot's is (tenant and bot share time).
    estate.pop("now", None)
    # The identity already holds what its definition names (role propagation is another test's
    # subject): what is left are the machines policy missed.
    estate["resources"] += [
        b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "0c0c0c0c-0000-4000-8000-000000000001"),
        b.role_assignment(sc.IMAGE_DEFINITION_ID, sc.P_OLD, b.CONTRIBUTOR, "0c0c0c0c-0000-4000-8000-000000000002"),
    ]
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
