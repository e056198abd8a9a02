"""The CLI as an operator and a container job live with it: formats, logs, settings, validate."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from remediator.cli import cli, env
from tests.cli_runner import run_cli


def _commands() -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = [("remediator", cli)]
    for name, command in cli.commands.items():
        if name != "emulator":  # the emulator's own server flags are a test tool's, not the bot's
            out.append((name, command))
    return out


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_flag_has_an_environment_variable(name: str, command: click.Command) -> None:
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in ("help", "version"):
            assert param.envvar, f"{name} {param.opts[0]} has no environment variable"
            assert str(param.envvar).startswith("REMEDIATOR_")


def test_an_environment_variable_works_like_its_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(env("format"), "json")
    monkeypatch.setenv(env("playbooks"), "arc-compute-provider schedule-prerequisites")
    result = run_cli(["run", "--dry-run", "--estate", "demo"])
    assert result.code == 2, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc["summary"]["findings_by_playbook"]) == {"arc-compute-provider", "schedule-prerequisites"}


def test_plan_honours_format_and_writes_the_plan(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = run_cli(["plan", "--estate", "demo", "--out", str(out), "--format", "json"])
    assert result.code == 2, result.stderr
    printed, written = json.loads(result.stdout), json.loads(out.read_text())
    assert printed["changes"] == written["changes"] and written["changes"]
    report = tmp_path / "plan.md"
    result = run_cli(["plan", "--estate", "demo", "--plan-out", str(out), "--out", str(report), "--format", "markdown"])
    assert result.code == 2 and result.stdout == ""
    assert report.read_text().startswith("## aum-remediator dry run") and json.loads(out.read_text())["changes"]


def test_json_logs_carry_one_run_id_on_every_line() -> None:
    result = run_cli(["--log-format", "json", "-v", "run", "--dry-run", "--estate", "demo", "--format", "json"])
    assert result.code == 2
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert len(lines) > 3 and len({line["run_id"] for line in lines}) == 1 and lines[0]["run_id"]
    last = lines[-1]
    assert last["logger"] == "remediator.summary" and last["exit_code"] == 2 and last["findings"] > 0


def test_verbose_says_what_the_bot_does_without_sdk_wire_logs() -> None:
    quiet = run_cli(["run", "--dry-run", "--estate", "demo", "--format", "json"])
    loud = run_cli(["-v", "run", "--dry-run", "--estate", "demo", "--format", "json"])
    assert len(quiet.stderr.splitlines()) == 1  # the closing summary only
    assert "INFO remediator" in loud.stderr and "findings" in loud.stderr
    assert "Request URL" not in loud.stderr and "Response status" not in loud.stderr
    wire = run_cli(["-vv", "run", "--dry-run", "--estate", "demo", "--format", "json"])
    assert "Request URL" in wire.stderr


def test_validate_describes_the_run_without_touching_azure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "scope: {management_group: landing-zones}\n"
        "playbooks:\n  enabled: [arc-compute-provider, powered-off-machines, schedule-conflicts]\n"
        "report: {locale: ja-jp}\n"
    )
    # Nothing listens here: any call to Azure would fail the command.
    monkeypatch.setenv(env("arm_endpoint"), "https://127.0.0.1:9")
    result = run_cli(["validate", "--config", str(config)])
    assert result.code == 0, result.stderr
    assert "scope: management group landing-zones" in result.stdout
    assert "fix on: arc-compute-provider" in result.stdout
    assert "opt-in (off): powered-off-machines" in result.stdout
    assert "report only: schedule-conflicts" in result.stdout
    assert "doc links in ja-jp" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("playbooks:\n  schedule-conflicts: {fix: true}\n", 1, "error: config: playbooks.schedule-conflicts.fix: "),
        (
            "playbooks:\n  enabled: [arc-compute-provider]\n  powered-off-machines: {fix: true}\n",
            0,
            "warning: config: ",
        ),
        ("report: {locale: japanese}\n", 1, "error: config c.yaml: $.report.locale"),
        ("scope: {subscriptions: [nope]}\n", 1, "error: invalid subscription id 'nope'"),
    ],
)
def test_validate_refuses_or_warns_about_settings_that_do_nothing(
    tmp_path: Path, body: str, code: int, message: str
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(body)
    result = run_cli(["validate", "--config", str(config)])
    assert result.code == code
    assert result.stderr.startswith(message), result.stderr
    if code == 1:
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


def test_a_run_warns_about_a_fix_switch_for_a_playbook_not_enabled(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("playbooks:\n  enabled: [arc-compute-provider]\n  powered-off-machines: {fix: true}\n")
    result = run_cli(["run", "--dry-run", "--estate", "demo", "--config", str(config), "--format", "json"])
    assert result.code == 2
    warning = "powered-off-machines: fix: true has no effect: powered-off-machines is not enabled"
    assert result.stderr.count(warning) == 1


def test_a_bad_report_option_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = run_cli(["run", "--dry-run", "--estate", "demo", "--report", f"pdf={tmp_path / 'x'}"])
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: invalid --report 'pdf=")
    result = run_cli(["run", "--dry-run", "--estate", "demo", "--locale", "Japanese!"])
    assert result.code == 1 and result.stderr.startswith("error: invalid locale 'Japanese!'")
    missing = tmp_path / "no-such-dir" / "r.html"
    for args in (["--report", f"html={missing}"], ["--out", str(missing)]):
        result = run_cli(["run", "--estate", "demo", *args])
        assert result.code == 1 and result.stderr.startswith(f"error: {args[0]} {missing}: cannot write")
        assert "remediator run:" not in result.stderr and result.stdout == ""
