"""`apply` executes only what the bot itself would plan now (issue 13, defect 3): a plan is bound to its
endpoint, tenant and scope; an edited, forged, duplicated or re-ordered change is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediator.model import Change
from tests.cli_runner import CliResult, run_cli
from tests.e2e.test_arc_compute_provider import ARC_NOT_REGISTERED, NO_ARC, estate

PLAYBOOK = ["--playbook", "arc-compute-provider"]


@pytest.fixture
def planned(tmp_path: Path) -> tuple[Path, Path]:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(estate()))
    plan_file = tmp_path / "plan.json"
    result = run_cli(["plan", "--estate", str(path), *PLAYBOOK, "--out", str(plan_file)])
    assert result.code == 2, result.stderr
    return path, plan_file


def _apply(plan_file: Path, *extra: str) -> CliResult:
    return run_cli(["apply", str(plan_file), "--yes", "--format", "json", *extra])


def _error(result: CliResult) -> str:
    assert result.code == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


def _forge(change: dict[str, Any], **edits: Any) -> dict[str, Any]:
    """An edit a careful attacker makes: the change id recomputed so the file reads as consistent."""
    fields = {k: change[k] for k in ("finding_id", "playbook", "resource_id", "action", "before", "after", "params")}
    fields.update(order=change["order"], depends_on=tuple(change["depends_on"]), fingerprint=change["fingerprint"])
    fields.update(edits)
    return Change(**fields).to_json()


def _rewrite(plan_file: Path, doc: dict[str, Any]) -> None:
    plan_file.write_text(json.dumps(doc))


def test_the_plan_names_its_target(planned: tuple[Path, Path]) -> None:
    path, plan_file = planned
    target = json.loads(plan_file.read_text())["target"]
    assert target == {"endpoint": f"emulator:{path}", "tenant_id": estate()["tenantId"]}


def test_a_plan_made_against_the_emulator_is_refused_against_azure(planned: tuple[Path, Path]) -> None:
    _, plan_file = planned
    assert "refusing to apply it here (pass the same --estate)" in _error(_apply(plan_file))


def test_a_plan_from_another_tenant_with_the_same_subscriptions_is_refused(planned: tuple[Path, Path]) -> None:
    path, plan_file = planned
    other = estate()
    other["tenantId"] = "00000000-1111-2222-3333-444444444444"
    for sub in other["subscriptions"]:
        sub["tenantId"] = other["tenantId"]
    path.write_text(json.dumps(other))
    message = _error(_apply(plan_file, "--estate", str(path)))
    assert f"not {other['tenantId']}" in message


def test_a_plan_without_a_target_is_refused(planned: tuple[Path, Path]) -> None:
    path, plan_file = planned
    doc = json.loads(plan_file.read_text())
    del doc["target"]
    _rewrite(plan_file, doc)
    assert "names no target" in _error(_apply(plan_file, "--estate", str(path)))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["after"].update(registrationState="Unregistered"), "edited?"),
        (lambda c: c.update(order=1), "edited?"),
        (lambda c: c.update(depends_on=["c-0000000000000000"]), "edited?"),
    ],
)
def test_an_edited_change_is_refused(planned: tuple[Path, Path], edit: Any, message: str) -> None:
    path, plan_file = planned
    doc = json.loads(plan_file.read_text())
    edit(doc["changes"][0])
    _rewrite(plan_file, doc)
    assert message in _error(_apply(plan_file, "--estate", str(path)))


def test_a_duplicated_change_is_refused(planned: tuple[Path, Path]) -> None:
    path, plan_file = planned
    doc = json.loads(plan_file.read_text())
    doc["changes"].append(doc["changes"][0])
    _rewrite(plan_file, doc)
    assert "appears twice" in _error(_apply(plan_file, "--estate", str(path)))


def test_an_unknown_action_is_one_line_and_exit_1(planned: tuple[Path, Path]) -> None:
    path, plan_file = planned
    doc = json.loads(plan_file.read_text())
    doc["changes"][0] = _forge(doc["changes"][0], action="delete-everything")
    _rewrite(plan_file, doc)
    assert "unknown action 'delete-everything'" in _error(_apply(plan_file, "--estate", str(path)))


def test_forged_changes_are_not_executed_and_the_genuine_ones_are(planned: tuple[Path, Path]) -> None:
    path, plan_file = planned
    doc = json.loads(plan_file.read_text())
    genuine = doc["changes"][0]
    assert genuine["resource_id"].split("/")[2] == ARC_NOT_REGISTERED
    # A subscription without Arc machines: the bot would never register a provider there; and a
    # genuine change moved to another order (it would then run before what it must follow).
    outside = _forge(genuine, resource_id=f"/subscriptions/{NO_ARC}/providers/Microsoft.Compute")
    reordered = _forge(doc["changes"][1], order=1)
    doc["changes"][1:2] = [outside, reordered]
    _rewrite(plan_file, doc)
    result = _apply(plan_file, "--estate", str(path))
    assert result.code == 2, result.stderr  # the refused changes are still to do: plan again
    outcomes = {o["change_id"]: o for o in json.loads(result.stdout)["outcomes"]}
    assert outcomes[genuine["id"]]["status"] == "applied"
    for forged in (outside, reordered):
        assert outcomes[forged["id"]]["status"] == "stale"
        assert "a plan made now does not make this change" in outcomes[forged["id"]]["detail"]
