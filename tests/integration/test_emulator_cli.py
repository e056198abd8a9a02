"""`remediator emulator serve` as a separate process: what it prints is enough to reach it."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

from azure.identity import ClientSecretCredential
from azure.mgmt.resource.subscriptions import SubscriptionClient


def test_serve_prints_endpoint_ca_and_env_then_stops_on_interrupt():
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from remediator.cli import main; main()",
            "emulator",
            "serve",
            "--estate",
            "demo",
            "--provider-polls",
            "1",
        ],
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
        env = dict(
            shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in lines if line.startswith("export ")
        )
        credential = ClientSecretCredential(
            env["AZURE_TENANT_ID"],
            env["AZURE_CLIENT_ID"],
            env["AZURE_CLIENT_SECRET"],
            authority=env["AZURE_AUTHORITY_HOST"],
            disable_instance_discovery=True,
            connection_verify=env["REMEDIATOR_CA_BUNDLE"],
        )
        client = SubscriptionClient(
            credential,
            base_url=env["REMEDIATOR_ARM_ENDPOINT"],
            credential_scopes=[env["REMEDIATOR_ARM_ENDPOINT"] + "/.default"],
            connection_verify=env["REMEDIATOR_CA_BUNDLE"],
        )
        names = sorted(s.display_name for s in client.subscriptions.list())
    finally:
        process.send_signal(signal.SIGINT)
        out, _err = process.communicate(timeout=30)

    assert lines[0].startswith("emulator serving demo.json at https://127.0.0.1:")
    assert lines[1].startswith("CA certificate: ")
    assert names == ["branch-arc", "prod-arc", "prod-vms", "sandbox"]
    assert process.returncode == 0
    assert "emulator stopped" in out


def test_serve_with_a_malformed_estate_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"tenantId": "x", "subscriptions": []}', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "from remediator.cli import main; main()", "emulator", "serve", "--estate", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: estate bad.json: $.tenantId: 'x' does not match '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
        "[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"
    ]


def test_a_bad_consistency_is_one_line_and_exit_1(tmp_path):
    from tests.cli_runner import run_cli

    flag = run_cli(["emulator", "serve", "--estate", "demo", "--consistency", "eventual"])
    assert flag.code == 1 and len(flag.stderr.strip().splitlines()) == 1
    assert "--consistency" in flag.stderr and "'eventual'" in flag.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"tenantId": "t", "subscriptions": [], "emulator": {"policyEvaluationDelaySeconds": -1}}')
    knob = run_cli(["emulator", "serve", "--estate", str(bad)])
    assert knob.code == 1 and len(knob.stderr.strip().splitlines()) == 1
    assert "policyEvaluationDelaySeconds" in knob.stderr
