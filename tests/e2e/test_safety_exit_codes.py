"""Exit codes that never lie (issue 13, defects 1, 4 and 8): the report is written with every outcome,
also when the check after the apply cannot read the tenant (exit 4); --out is checked before anything is
applied; a Retry-After beyond the run's deadline fails that change; SIGTERM writes the report, exits 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cli_runner import run_cli
from tests.e2e.test_arc_compute_provider import ARC_NOT_REGISTERED, estate

ARGS = ["--playbook", "arc-compute-provider", "--format", "json"]


def _estate_file(tmp_path: Path, **knobs: Any) -> Path:
    doc = estate()
    if knobs:
        doc["emulator"] = knobs
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    return path


def _one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_failed_read_after_the_apply_is_exit_4_with_every_outcome_reported(tmp_path: Path) -> None:
    # Once the emulator has accepted a write, Resource Graph refuses every query: the plan made
    # after the apply cannot be made. The writes happened, so exit 1 ("nothing was changed") would lie.
    fault = {"route": "resource_graph_query", "status": 403, "code": "AuthorizationFailed", "afterWrites": 1}
    path = _estate_file(tmp_path, faults=[fault])
    out = tmp_path / "report.json"
    result = run_cli(["run", "--estate", str(path), *ARGS, "--out", str(out)])
    assert result.code == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert "applied, not verified" in result.stderr
    report = json.loads(out.read_text())
    assert len(report["outcomes"]) == len(report["changes"]) == 3
    assert {o["status"] for o in report["outcomes"]} == {"applied"}
    assert any("applied, not verified" in note and "AuthorizationFailed" in note for note in report["notes"])
    assert "plan_after_apply" not in report  # nothing claims the tenant is clean


def test_an_unwritable_out_is_refused_before_anything_is_read_or_applied(tmp_path: Path) -> None:
    path = _estate_file(tmp_path)
    for out in (tmp_path / "no-such-dir" / "report.json", tmp_path):
        result = run_cli(["run", "--estate", str(path), *ARGS, "--out", str(out)])
        assert result.code == 1
        assert "--out" in _one_line_error(result.stderr)
        assert result.stdout == ""  # no report: nothing was done
    assert not (tmp_path / "no-such-dir").exists()


def test_a_retry_after_beyond_the_deadline_fails_that_change_at_once(tmp_path: Path) -> None:
    # ARM asks the writer to come back in an hour; the run has 60 s. The change fails with a clear
    # error instead of sleeping past the deadline; the others go on.
    fault = {"route": "/register", "method": "POST", "status": 429, "code": "TooManyRequests", "retryAfter": 3600}
    path = _estate_file(tmp_path, faults=[{**fault, "count": 1}])
    config = tmp_path / "settings.yaml"
    config.write_text("apply:\n  timeout_seconds: 60\n")
    result = run_cli(["run", "--estate", str(path), *ARGS, "--config", str(config)])
    assert result.code == 3, result.stderr
    outcomes = json.loads(result.stdout)["outcomes"]
    failed = [o for o in outcomes if o["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["error"]["code"] == "DeadlineExceeded"
    assert "3600s is more than" in failed[0]["error"]["message"]
    assert sorted(o["status"] for o in outcomes) == ["applied", "applied", "failed"]


def test_a_year_at_the_edge_of_the_calendar_is_bad_input_not_a_traceback(tmp_path: Path) -> None:
    result = run_cli(["run", "--dry-run", "--estate", str(_estate_file(tmp_path)), "--now", "9999-12-31T23:59:59Z"])
    assert result.code == 1
    assert "--now" in _one_line_error(result.stderr)


def test_sigterm_stops_new_changes_writes_the_report_and_exits_143(tmp_path: Path) -> None:
    # Every write waits out a 429 whose Retry-After is long but inside the deadline: the run is
    # asleep in the SDK's retry when the container runtime sends SIGTERM.
    fault = {"route": "/register", "method": "POST", "status": 429, "code": "TooManyRequests", "retryAfter": 600}
    path = _estate_file(tmp_path, faults=[fault])
    out = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REMEDIATOR_"))}
    bot = [sys.executable, "-c", "from remediator.cli import main; main()"]
    process = subprocess.Popen(
        [*bot, "-vv", "run", "--estate", str(path), *ARGS, "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    for line in process.stderr:  # -vv logs each request: wait for the first refused write
        if "/register" in line and "429" in line:
            break
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 143, rest[-2000:]
    report = json.loads(out.read_text())
    assert len(report["outcomes"]) == len(report["changes"]) == 3  # every change has its outcome
    by_sub = {c["resource_id"].split("/")[2]: c["id"] for c in report["changes"]}
    status = {o["change_id"]: o for o in report["outcomes"]}
    # The two registrations asleep in their retry were abandoned (ARM never took them), and say so;
    # the subscription already Registering only needed a read.
    interrupted = [o for o in status.values() if o["status"] == "failed"]
    assert len(interrupted) == 2 and all(o["error"]["code"] == "Interrupted" for o in interrupted)
    assert status[by_sub[ARC_NOT_REGISTERED]]["status"] == "failed"
