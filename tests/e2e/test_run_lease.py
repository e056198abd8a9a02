"""One run per scope at a time: the blob lease, through azure-storage-blob against the emulator's blob
endpoints, with the bot as a separate process on the path a real tenant takes (no --estate)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest

from remediator.azure.lease import RunLease, lease_blob_name, run_lease
from remediator.azure.session import ArmSession
from remediator.emulator import Emulator
from remediator.emulator.blob.routes import ACCOUNT, blob_store
from remediator.emulator.service import Endpoint
from remediator.runcontrol import RunControl
from tests.cli_runner import run_cli
from tests.e2e.test_arc_compute_provider import ARC_NOT_REGISTERED, ARC_UNREGISTERED, TENANT, estate

BOT = [sys.executable, "-c", "from remediator.cli import main; main()"]
SUBSCRIPTIONS = (ARC_NOT_REGISTERED, ARC_UNREGISTERED)
CONTAINER = "remediator-runs"


@dataclass
class Served:
    emulator: Emulator
    endpoint: Endpoint
    env: dict[str, str]
    config: Path

    @property
    def container_url(self) -> str:
        return f"{self.endpoint.url}/{ACCOUNT}/{CONTAINER}"

    def settings(self, wait_seconds: float) -> Path:
        path = self.config.with_name(f"settings-{wait_seconds:g}.yaml")
        path.write_text(
            f"apply: {{poll_seconds: 0.05}}\nlease: {{container_url: '{self.container_url}', "
            f"wait_seconds: {wait_seconds}, duration_seconds: 15}}\n"
        )
        return path

    def bot(self, tmp: Path, name: str, wait_seconds: float = 120, *extra: str) -> subprocess.Popen[str]:
        config = self.settings(wait_seconds)
        args = ["run", "--playbook", "arc-compute-provider", "--config", str(config), "--format", "json"]
        args += ["--out", str(tmp / f"{name}.json"), *extra]
        for sub in SUBSCRIPTIONS:
            args += ["--subscription", sub]
        return subprocess.Popen([*BOT, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def lease_requests(self, status: int) -> int:
        return sum(1 for e in self.emulator.request_log if e.query.get("comp") == "lease" and e.status == status)

    def arm_writes(self) -> list[str]:
        return [
            f"{e.method} {e.path}"
            for e in self.emulator.request_log
            if e.method in ("PUT", "POST", "PATCH", "DELETE")
            and not e.path.startswith(f"/{ACCOUNT}/")
            and "ResourceGraph" not in e.path
            and e.route != "token-authority"
        ]

    def lease_state(self) -> str:
        with self.emulator.state.lock:
            store = blob_store(self.emulator.state)
            blob = store.containers[CONTAINER][lease_blob_name(TENANT, SUBSCRIPTIONS, None)]
            return store.lease_state(blob)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    # Each request takes 150 ms, so a run lasts seconds: long enough to be caught holding its lease.
    emulator = Emulator.load(estate(), provider_registration_polls=2, latency_ms=150.0)
    config = tmp_path / "settings.yaml"
    with emulator.serve() as endpoint:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REMEDIATOR_"))}
        yield Served(emulator, endpoint, {**clean, **endpoint.env()}, config)


def _hold(served: Served) -> AbstractContextManager[RunLease]:
    """Another run holding the scope's lease, from this test process (renewed while held)."""
    session = ArmSession.for_endpoint(served.endpoint)
    return run_lease(session, served.container_url, (SUBSCRIPTIONS, None, ""), 15, 0, RunControl())


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_two_runs_at_once_one_applies_the_other_waits_and_then_finds_nothing(served: Served, tmp_path: Path) -> None:
    with _hold(served):
        runs = [served.bot(tmp_path, "a"), served.bot(tmp_path, "b")]
        # Both wait: each has been refused the lease at least once, and neither wrote anything.
        _wait_for(lambda: served.lease_requests(409) >= 2, "both runs try the lease")
        assert served.arm_writes() == []
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr[-2000:]
    reports = [json.loads((tmp_path / f"{n}.json").read_text()) for n in ("a", "b")]
    applied = sorted(sum(o["status"] == "applied" for o in r["outcomes"]) for r in reports)
    assert applied == [0, 2]  # one run registered both providers, the other found nothing left
    registrations = [w for w in served.arm_writes() if w.endswith("/register")]
    assert sorted(registrations) == sorted(
        f"POST /subscriptions/{s}/providers/Microsoft.Compute/register" for s in SUBSCRIPTIONS
    )  # nothing done twice
    assert served.lease_state() == "available"
    log = served.emulator.request_log
    print(
        f"\nlease acquires refused (409): {served.lease_requests(409)}, granted (201): {served.lease_requests(201)}; "
        f"renewals + releases (200): {sum(1 for e in log if e.query.get('comp') == 'lease' and e.status == 200)}; "
        f"ARM writes: {len(served.arm_writes())}; requests: {len(log)}"
    )
    assert all(not r.get("notes") or "not guarded" not in " ".join(r["notes"]) for r in reports)


def test_a_run_that_waited_long_enough_refuses_in_one_line_and_writes_nothing(served: Served, tmp_path: Path) -> None:
    with _hold(served):
        run = served.bot(tmp_path, "refused", 1)
        _, stderr = run.communicate(timeout=120)
    assert run.returncode == 1, stderr[-2000:]
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: another run holds the lease for tenant "), stderr
    assert f"subscriptions {','.join(sorted(SUBSCRIPTIONS))}" in lines[0]
    assert lease_blob_name(TENANT, SUBSCRIPTIONS, None) in lines[0] and " since " in lines[0]
    assert served.lease_requests(409) >= 1
    assert served.arm_writes() == []  # nothing written, and nothing read either: the lease comes first
    assert not any(e.path.startswith("/subscriptions") for e in served.emulator.request_log)
    assert not (tmp_path / "refused.json").exists()


def test_a_crashed_runs_lease_expires_and_the_next_run_proceeds(served: Served, tmp_path: Path) -> None:
    crashed = served.bot(tmp_path, "crashed")
    _wait_for(lambda: served.lease_requests(201) >= 1, "the first run takes the lease")
    crashed.kill()  # SIGKILL: no release, no renewal from now on
    crashed.communicate(timeout=60)
    assert served.lease_state() == "leased"
    early = served.bot(tmp_path, "early", 0)
    early.communicate(timeout=120)
    assert early.returncode == 1  # the dead run's lease still holds...
    with served.emulator.state.lock:
        blob_store(served.emulator.state).advance(16)  # ...until its 15 s run out
    assert served.lease_state() == "expired"
    after = served.bot(tmp_path, "after", 0)
    _, stderr = after.communicate(timeout=300)
    assert after.returncode == 0, stderr[-2000:]
    report = json.loads((tmp_path / "after.json").read_text())
    assert report["plan_after_apply"]["changes"] == []
    assert served.lease_state() == "available"


def test_sigterm_releases_the_lease(served: Served, tmp_path: Path) -> None:
    run = served.bot(tmp_path, "stopped")
    _wait_for(lambda: served.lease_requests(201) >= 1, "the run takes the lease")
    run.send_signal(signal.SIGTERM)
    _, stderr = run.communicate(timeout=300)
    print("exit after SIGTERM:", run.returncode)
    assert run.returncode in (143, 0), stderr[-2000:]  # 0: it had finished before the signal landed
    assert served.lease_state() == "available"
    next_run = served.bot(tmp_path, "next", 0)
    _, stderr = next_run.communicate(timeout=300)
    assert next_run.returncode == 0, stderr[-2000:]


def test_a_dry_run_takes_no_lease_and_an_unguarded_run_says_so(served: Served, tmp_path: Path) -> None:
    dry = served.bot(tmp_path, "dry", 0, "--dry-run")
    _, stderr = dry.communicate(timeout=300)
    assert dry.returncode == 2, stderr[-2000:]
    assert not any(e.path.startswith(f"/{ACCOUNT}/") for e in served.emulator.request_log)  # writes nothing
    out = tmp_path / "unguarded.json"
    args = ["run", "--playbook", "arc-compute-provider", "--format", "json", "--out", str(out)]
    config = tmp_path / "no-lease.yaml"
    config.write_text("apply: {poll_seconds: 0.05}\n")
    unguarded = subprocess.run(
        [*BOT, *args, "--config", str(config), "--subscription", ARC_NOT_REGISTERED],
        env=served.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert unguarded.returncode == 0, unguarded.stderr[-2000:]
    notes = json.loads(out.read_text())["notes"]
    assert any("concurrent runs are not guarded" in n for n in notes)
    assert not any(e.path.startswith(f"/{ACCOUNT}/") for e in served.emulator.request_log)


def test_a_lease_url_with_a_sas_token_is_refused_before_anything(tmp_path: Path) -> None:
    result = run_cli(
        ["run", "--estate", "demo", "--lease-container", "https://acct.blob.core.windows.net/runs?sig=secret"]
    )
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "error: invalid lease container URL 'https://acct.blob.core.windows.net/runs': "
        "expected https://ACCOUNT/CONTAINER, no query or SAS token"
    ]
    assert "secret" not in result.stderr + result.stdout
    config = tmp_path / "sas.yaml"
    config.write_text("lease: {container_url: 'https://acct.blob.core.windows.net/runs?sv=2024&sig=secret'}\n")
    from_file = run_cli(["run", "--estate", "demo", "--config", str(config)])
    assert from_file.code == 1 and "invalid lease container URL" in from_file.stderr
    assert "secret" not in from_file.stderr + from_file.stdout
