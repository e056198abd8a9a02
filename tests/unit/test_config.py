from __future__ import annotations

from pathlib import Path

import pytest

from remediator.config import build_settings
from remediator.errors import ConfigError, UsageError

SUB = "11111111-1111-1111-1111-111111111111"


def test_flags_beat_environment_beat_file(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"scope: {{subscriptions: ['{SUB}']}}\n"
        "azure: {arm_endpoint: 'https://file.example'}\n"
        "playbooks:\n  enabled: [arc-compute-provider]\n"
        "  powered-off-machines: {fix: true, options: {lead_minutes: 20}}\n"
        "apply: {poll_seconds: 2}\n"
    )
    env = {"REMEDIATOR_ARM_ENDPOINT": "https://env.example", "REMEDIATOR_CA_BUNDLE": str(ca)}
    s = build_settings(config_path=str(cfg), environ=env)
    assert s.arm_endpoint == "https://env.example"
    assert s.scope.subscriptions == (SUB,)
    assert s.playbook_ids == ("arc-compute-provider",)
    assert s.playbooks["powered-off-machines"].fix is True
    assert s.playbooks["powered-off-machines"].options == {"lead_minutes": 20}
    assert s.poll_seconds == 2
    s = build_settings(config_path=str(cfg), arm_endpoint="https://flag.example/", environ=env)
    assert s.arm_endpoint == "https://flag.example"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "guardrails: {max_changes: -1}\n",
            "config c.yaml: $.guardrails.max_changes: -1 is less than the minimum of 0",
        ),
        ("surprise: 1\n", "config c.yaml: $: Additional properties are not allowed ('surprise' was unexpected)"),
        ("scope: [\n", "config c.yaml: not valid YAML at line 2"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        build_settings(config_path=str(tmp_path / "c.yaml"), environ={})
    assert str(err.value).startswith(message)


def test_bad_values_on_flags() -> None:
    with pytest.raises(UsageError, match="invalid subscription id 'prod'"):
        build_settings(subscriptions=["prod"], environ={})
    with pytest.raises(UsageError, match="must be https://"):
        build_settings(arm_endpoint="http://insecure", environ={})
    with pytest.raises(UsageError, match="invalid --now"):
        build_settings(now="tomorrow", environ={})
    with pytest.raises(ConfigError, match="no such file"):
        build_settings(config_path="/nonexistent.yaml", environ={})


def test_playbook_options_are_checked_against_the_playbook_schema(tmp_path: Path) -> None:
    from tests.cli_runner import run_cli

    cfg = tmp_path / "c.yaml"
    cfg.write_text("playbooks:\n  powered-off-machines: {options: {start_within_hours: -3}}\n")
    result = run_cli(["run", "--dry-run", "--estate", "demo", "--config", str(cfg)])
    assert result.code == 1
    assert result.stderr.startswith("error: config: playbooks.powered-off-machines.options.start_within_hours: -3")
    cfg.write_text("playbooks:\n  no-such-playbook: {fix: true}\n")
    result = run_cli(["run", "--dry-run", "--estate", "demo", "--config", str(cfg)])
    assert result.code == 1 and "unknown playbook 'no-such-playbook'" in result.stderr
