"""Hostile settings and inputs (issue 13, defects 5, 10, 11): every bad input is one line, exit 1,
before anything is read from or written to the tenant; no traceback at default verbosity."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_runner import run_cli
from tests.e2e.test_arc_compute_provider import estate

ALIAS_BOMB = "a: &a ['x','x','x','x','x','x','x','x','x']\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(9)
)


def _one_line(args: list[str]) -> str:
    result = run_cli(args)
    assert result.code == 1, (result.code, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (ALIAS_BOMB, "aliases (*name) are not allowed"),
        ("apply:\n  timeout_seconds: .inf\n", "$.apply.timeout_seconds: not a finite number"),
        ("apply:\n  poll_seconds: .nan\n", "$.apply.poll_seconds: not a finite number"),
        ("apply:\n  timeout_seconds: 1.0e308\n", "timeout_seconds"),
        ("apply:\n  poll_seconds: -1\n", "poll_seconds"),
        ("guardrails:\n  max_changes: 100000000000\n", "max_changes"),
        ("# padding\n" * 200_000, "bytes is more than"),
        ("a:\n" + "".join(" " * (i + 1) + "- \n" for i in range(3000)), "config"),
    ],
)
def test_hostile_settings_are_one_line_and_exit_1(tmp_path: Path, settings: str, message: str) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text(settings)
    line = _one_line(["run", "--dry-run", "--estate", "demo", "--config", str(config)])
    assert message in line


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("make", "command", "message"),
    [
        (lambda p: p.write_text(_deep(100_000)), ["apply", "{path}", "--yes"], "nested too deeply"),
        (lambda p: p.write_text('{"a": ' * 100_000 + "1" + "}" * 100_000), ["run", "--estate", "{path}"], "nested"),
    ],
)
def test_deeply_nested_json_is_one_line(
    tmp_path: Path, make: Callable[[Path], None], command: list[str], message: str
) -> None:
    path = tmp_path / "input.json"
    make(path)
    assert message in _one_line([arg.replace("{path}", str(path)) for arg in command])


def test_estate_ids_that_climb_are_refused(tmp_path: Path) -> None:
    doc = estate()
    rid = doc["resources"][1]["id"]
    doc["resources"][1]["id"] = rid.replace("/resourceGroups/arc-rg/", "/resourceGroups/arc-rg/../../")
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc))
    assert "$.resources[1]" in _one_line(["run", "--dry-run", "--estate", str(path)])


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--page-size", "0"), ("--port", "99999"), ("--provider-polls", "-1"), ("--lro-polls", "-3")],
)
def test_emulator_knobs_out_of_range_are_refused(flag: str, value: str) -> None:
    assert flag in _one_line(["emulator", "serve", "--estate", "demo", flag, value])


@pytest.mark.parametrize("scope", ["garbage", "/subscriptions/prod", "/subscriptions/../providers/x"])
def test_permissions_with_a_scope_that_is_no_scope_exits_1(scope: str) -> None:
    assert "invalid --scope" in _one_line(["permissions", "--scope", scope])
