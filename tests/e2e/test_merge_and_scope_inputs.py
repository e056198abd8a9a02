"""Inputs a scheduled job templates in: a sharded merge, an empty scope variable, the pending exit code.

Each of these once gave a plausible answer where it should refuse (found by a read-only review).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediator.emulator.generate import generate_estate
from tests.cli_runner import CliResult, run_cli


def _plan(tmp_path: Path, name: str, *args: str) -> str:
    out = tmp_path / name
    result = run_cli(["plan", *args, "--out", str(out)])
    assert result.code == 2, result.stderr
    return str(out)


@pytest.fixture
def demo_shards(tmp_path: Path) -> tuple[str, str]:
    return (
        _plan(tmp_path, "s0.json", "--estate", "demo", "--shard", "0/2"),
        _plan(tmp_path, "s1.json", "--estate", "demo", "--shard", "1/2"),
    )


def _one_line_error(result: CliResult, *words: str) -> None:
    assert result.code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error:"), result.stderr
    assert all(word in lines[-1] for word in words), lines[-1]


def test_a_merge_with_changes_pending_honours_the_pending_exit_code(demo_shards: tuple[str, str]) -> None:
    assert run_cli(["report", "merge", *demo_shards, "--format", "json"]).code == 2
    scheduled = run_cli(["--pending-exit-code", "0", "report", "merge", *demo_shards, "--format", "json"])
    assert scheduled.code == 0, scheduled.stderr
    assert json.loads(scheduled.stdout)["changes"]


def test_a_merge_missing_a_shard_or_holding_one_twice_is_refused(demo_shards: tuple[str, str]) -> None:
    s0, _ = demo_shards
    _one_line_error(run_cli(["report", "merge", s0]), "1/2 missing")
    _one_line_error(run_cli(["report", "merge", s0, s0]), "0/2 twice")


def test_plans_of_two_tenants_do_not_merge(tmp_path: Path, demo_shards: tuple[str, str]) -> None:
    estate = tmp_path / "other.json"
    estate.write_text(json.dumps(generate_estate(machines=40, subscriptions=2, seed=7)))
    other = _plan(tmp_path, "o1.json", "--estate", str(estate), "--shard", "1/2")
    _one_line_error(run_cli(["report", "merge", demo_shards[0], other]), "another tenant or endpoint")


def test_an_empty_management_group_is_an_error_not_every_subscription(monkeypatch: pytest.MonkeyPatch) -> None:
    _one_line_error(run_cli(["run", "--dry-run", "--estate", "demo", "--management-group", ""]), "management group")
    for variable in ("REMEDIATOR_MANAGEMENT_GROUP", "REMEDIATOR_SUBSCRIPTIONS"):
        with monkeypatch.context() as env:
            env.setenv(variable, "")
            _one_line_error(run_cli(["run", "--dry-run", "--estate", "demo"]), variable, "empty")


@pytest.mark.parametrize("code", ["1", "3", "4", "130", "143"])
def test_the_pending_exit_code_cannot_take_a_code_that_means_something_else(code: str) -> None:
    _one_line_error(run_cli(["--pending-exit-code", code, "playbooks"]), "--pending-exit-code")


def test_an_endpoint_carrying_credentials_is_refused_without_echoing_them() -> None:
    result = run_cli(["validate", "--arm-endpoint", "https://user:s3cretpw@127.0.0.1:1/?sig=SECRETSIG"])
    _one_line_error(result, "invalid ARM endpoint")
    assert "s3cretpw" not in result.stderr + result.stdout and "SECRETSIG" not in result.stderr + result.stdout
