from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediator.permissions import GRANTABLE_ROLES
from remediator.playbook import load_playbooks
from tests.cli_runner import run_cli

SCOPE = "/subscriptions/11111111-2222-3333-4444-555555555555"
BUILTIN_ROLES = Path(__file__).resolve().parents[2] / "remediator/emulator/builtins/role-definitions"


def _actions(args: list[str]) -> set[str]:
    result = run_cli(["permissions", "--scope", SCOPE, *args])
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


def test_the_role_is_assignable_only_where_asked() -> None:
    result = run_cli(
        ["permissions", "--scope", SCOPE, "--scope", "/providers/Microsoft.Management/managementGroups/lz"]
    )
    assert json.loads(result.stdout)["AssignableScopes"] == [
        SCOPE,
        "/providers/Microsoft.Management/managementGroups/lz",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "permissions needs --scope"),
        (["--scope", "/subscriptions/00000000"], "invalid --scope '/subscriptions/00000000'"),
        (["--scope", "landing-zones"], "invalid --scope 'landing-zones'"),
    ],
)
def test_a_missing_or_malformed_scope_is_one_clear_error(args: list[str], message: str) -> None:
    result = run_cli(["permissions", *args])
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: {message}") and len(result.stderr.strip().splitlines()) == 1


def test_actions_are_spelled_as_arm_documents_them() -> None:
    actions = _actions([])
    assert "Microsoft.Compute/virtualMachines/patchInstallationResults/read" in actions
    assert "Microsoft.Maintenance/configurationAssignments/read" in actions
    assert all(a.split("/")[0].startswith("Microsoft.") for a in actions)


def test_the_abac_condition_limits_grants_to_the_policies_roles() -> None:
    result = run_cli(["permissions", "--scope", SCOPE, "--condition"])
    assert result.code == 0, result.stderr
    condition = result.stdout.strip()
    assert condition.startswith("((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (")
    names = {
        json.loads(p.read_text())["name"]: json.loads(p.read_text())["properties"]["roleName"]
        for p in BUILTIN_ROLES.glob("*.json")
    }
    granted = {names[role_id] for role_id in GRANTABLE_ROLES if role_id in condition}
    assert granted == {"Contributor", "Virtual Machine Contributor", "Azure Connected Machine Resource Administrator"}
    for never in ("Owner", "User Access Administrator"):
        assert next(i for i, n in names.items() if n == never) not in condition
    assert "PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}" in condition


def test_no_condition_when_no_fix_grants_roles(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("playbooks:\n  enabled: [arc-compute-provider]\n")
    result = run_cli(["permissions", "--scope", SCOPE, "--config", str(config), "--condition"])
    assert result.code == 1 and "grant no roles" in result.stderr
