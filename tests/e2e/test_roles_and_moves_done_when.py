"""Issue 9's "done when", for roles held at management groups and moved machines.

Against `remediator emulator serve` (a separate process, Azure's consistency): two `remediator
run`s in a row both exit 0, the second writes nothing, no role assignment exists twice, a run
scoped to subscriptions grants nothing an identity holds at the management group above them,
and a moved VM that has a second schedule is repaired.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from azure.identity import ClientSecretCredential
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.maintenance import MaintenanceManagementClient

from tests.data.maintenance.estates import SUB_A, SUB_B, vm
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc
from tests.e2e.test_maintenance_service_quirks import _moved_with_second_schedule

CLI = [sys.executable, "-c", "from remediator.cli import main; main()"]
PLAYBOOKS = ["policy-identity-roles", "maintenance-moved-resource"]


def _estate() -> dict[str, Any]:
    policy = sc.landing_zone()
    policy.pop("emulator")  # Azure's own delays
    moved = _moved_with_second_schedule()
    policy["subscriptions"] += moved["subscriptions"]
    policy["resources"] += moved["resources"]
    return policy


@contextmanager
def _served(path: Path) -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [*CLI, "emulator", "serve", "--estate", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("press Ctrl+C"):
                break
        yield dict(shlex.split(x.removeprefix("export "))[0].split("=", 1) for x in lines if x.startswith("export "))
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def _run(env: dict[str, str], out: Path) -> tuple[int, dict[str, Any]]:
    scope = [arg for sub in (b.S1, SUB_A, SUB_B) for arg in ("--subscription", sub)]
    chosen = [arg for pb in PLAYBOOKS for arg in ("--playbook", pb)]
    done = subprocess.run(
        [*CLI, "run", *scope, *chosen, "--format", "json", "--out", str(out)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, json.loads(out.read_text())


def _credential(env: dict[str, str]) -> dict[str, Any]:
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=env["REMEDIATOR_CA_BUNDLE"],
    )
    endpoint = env["REMEDIATOR_ARM_ENDPOINT"]
    return {
        "credential": credential,
        "base_url": endpoint,
        "credential_scopes": [endpoint + "/.default"],
        "connection_verify": env["REMEDIATOR_CA_BUNDLE"],
    }


def test_two_runs_in_a_row_exit_0_the_second_writes_nothing_and_nothing_is_granted_twice(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(_estate()))
    with _served(path) as env:
        first_code, first = _run(env, tmp_path / "first.json")
        second_code, second = _run(env, tmp_path / "second.json")
        kwargs = _credential(env)
        roles = AuthorizationManagementClient(subscription_id=b.S1, api_version="2022-04-01", **kwargs)
        assigned = [
            (str(a.scope).lower(), str(a.principal_id).lower(), str(a.role_definition_id).rsplit("/", 1)[-1])
            for sub in (b.S1, b.S2)
            for a in roles.role_assignments.list_for_subscription()
            if a.scope and sub in a.scope
        ]
        maintenance = MaintenanceManagementClient(subscription_id=SUB_B, **kwargs)
        on_moved = {
            a.name: a.maintenance_configuration_id
            for a in maintenance.configuration_assignments.list(
                "rg-new", "Microsoft.Compute", "virtualMachines", "app1"
            )
        }

    assert (first_code, second_code) == (0, 0)
    grants = [c for c in first["changes"] if c["action"] == "create-role-assignment"]
    assert grants and all(c["params"]["principal_id"] != sc.P_UAI for c in grants)  # it holds Contributor above
    assert {o["status"] for o in first["outcomes"]} == {"applied"}
    moved_id = vm(SUB_B, "rg-new", "app1")["id"]
    assert any(
        c["action"] == "create-configuration-assignment" and moved_id in c["resource_id"] for c in first["changes"]
    )
    assert second["changes"] == [] and second["outcomes"] == []  # the second run writes nothing
    assert len(assigned) == len(set(assigned))  # no role assignment exists twice
    assert set(on_moved) == {"nightly", "weekly"}  # repaired, and its other schedule kept
