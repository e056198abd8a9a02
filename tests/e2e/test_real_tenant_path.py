"""The path a real tenant takes: no --estate, DefaultAzureCredential from the environment, a custom
ARM endpoint and CA bundle — here pointed at `remediator emulator serve` in another process."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_arc_compute_provider import ARC_NOT_REGISTERED, estate

REMEDIATOR = [sys.executable, "-c", "from remediator.cli import main; main()"]


@pytest.fixture
def served_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(estate()))
    process = subprocess.Popen(
        [*REMEDIATOR, "emulator", "serve", "--estate", str(path), "--provider-polls", "2"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    env: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("export "):
                key, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
                env[key] = value
            if line.startswith("press Ctrl+C"):
                break
        yield env
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def _bot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REMEDIATOR_", "IDENTITY_", "MSI_"))}
    return subprocess.run([*REMEDIATOR, *args], env={**clean, **env}, capture_output=True, text=True, timeout=120)


def test_default_credential_and_custom_endpoint_from_the_environment(served_env: dict[str, str]) -> None:
    args = ["run", "--playbook", "arc-compute-provider", "--format", "json"]
    dry = _bot(["-vv", *args[:1], "--dry-run", "--subscription", ARC_NOT_REGISTERED, *args[1:]], served_env)
    assert dry.returncode == 2, dry.stderr[-2000:]
    doc = json.loads(dry.stdout)
    assert [c["resource_id"].split("/")[2] for c in doc["changes"]] == [ARC_NOT_REGISTERED]
    # Debug logging shows the HTTP traffic, never the credential's secret or a bearer token.
    assert "GET" in dry.stderr or "POST" in dry.stderr
    secret = served_env["AZURE_CLIENT_SECRET"]
    assert secret not in dry.stderr and secret not in dry.stdout
    assert re.search(r"Bearer\s+[A-Za-z0-9._~+/=-]{16,}", dry.stderr) is None
    assert re.search(r'"access_token":\s*"[^*"]', dry.stderr) is None
    assert "eyJ" not in dry.stderr  # every token the emulator issues is a JWT
    assert "'Authorization': 'REDACTED'" in dry.stderr
    fixed = _bot([*args, "--subscription", ARC_NOT_REGISTERED], served_env)
    assert fixed.returncode == 0, fixed.stderr[-2000:]
    assert json.loads(fixed.stdout)["plan_after_apply"]["changes"] == []


def test_without_any_credential_it_is_one_line_and_exit_1(served_env: dict[str, str]) -> None:
    env = {k: v for k, v in served_env.items() if k != "AZURE_CLIENT_SECRET"}
    env["AZURE_CONFIG_DIR"] = "/nonexistent"  # no Azure CLI login to fall back on
    result = _bot(["run", "--dry-run"], env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
