from __future__ import annotations

import json
from pathlib import Path

from remediator.playbook import load_playbooks
from tests.cli_runner import run_cli


def _actions(args: list[str]) -> set[str]:
    result = run_cli(["permissions", *args])
    assert result.code == 0, result.stderr
    role = json.loads(result.stdout)
    assert role["IsCustom"] is True and "*" not in role["Actions"]
    return set(role["Actions"])


def test_writes_only_for_enabled_fixes(tmp_path: Path) -> None:
    everything = _actions([])
    assert "Microsoft.Compute/register/action" in everything
    arc_only = _actions(["--playbook", "arc-compute-provider"])
    assert "Microsoft.Compute/register/action" in arc_only
    assert "Microsoft.Authorization/roleAssignments/write" not in arc_only
    config = tmp_path / "c.yaml"
    config.write_text("playbooks:\n  enabled: [policy-identity-roles]\n  policy-identity-roles: {fix: false}\n")
    reads_only = _actions(["--config", str(config)])
    assert not any(
        a.endswith(("/write", "/delete", "/action")) for a in reads_only - {"Microsoft.Compute/register/action"}
    )
    assert "Microsoft.Authorization/roleAssignments/write" not in reads_only


def test_never_owner_like_wildcards() -> None:
    assert not any("*" in a for a in _actions([]))


def test_playbooks_lists_every_playbook_with_what_its_fix_does() -> None:
    result = run_cli(["playbooks"])
    assert result.code == 0
    rows = {line.split("\t")[0]: line.split("\t")[1] for line in result.stdout.strip().splitlines()}
    assert rows["arc-compute-provider"] == "fix on"
    assert rows["powered-off-machines"] == "fix opt-in"
    assert rows["schedule-conflicts"] == "report only"
    assert rows["installation-errors"] == "report only"
    assert set(rows) == {pb.id for pb in load_playbooks().all()}


def test_every_type_the_inventory_reads_has_its_read_action() -> None:
    actions = {a.lower() for a in _actions([])}
    for needed in (
        "microsoft.maintenance/configurationassignments/read",
        "microsoft.compute/virtualmachines/read",
        "microsoft.hybridcompute/machines/read",
        "microsoft.policyinsights/policystates/queryresults/read",
    ):
        assert needed in actions
    assert len(actions) == len(_actions([]))  # one spelling per action
