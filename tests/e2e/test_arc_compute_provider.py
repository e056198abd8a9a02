"""arc-compute-provider end to end: real SDK clients -> HTTPS emulator, via the harness and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_runner import run_cli
from tests.playbook_harness import harness, run_through_emulator, statuses

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ARC_NOT_REGISTERED = "aaaaaaaa-0000-0000-0000-000000000001"
ARC_REGISTERING = "aaaaaaaa-0000-0000-0000-000000000002"
NO_ARC = "aaaaaaaa-0000-0000-0000-000000000003"
ARC_REGISTERED = "aaaaaaaa-0000-0000-0000-000000000004"
ARC_UNREGISTERED = "aaaaaaaa-0000-0000-0000-000000000005"


def _arc(sub: str, name: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/arc-rg/providers/Microsoft.HybridCompute/machines/{name}",
        "name": name,
        "type": "Microsoft.HybridCompute/machines",
        "location": "westeurope",
        "tags": {},
        "properties": {"osType": "Linux", "status": "Connected"},
    }


def _rg(sub: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/resourceGroups/arc-rg",
        "name": "arc-rg",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westeurope",
        "properties": {"provisioningState": "Succeeded"},
    }


def estate() -> dict[str, Any]:
    subs = {
        ARC_NOT_REGISTERED: "NotRegistered",
        ARC_REGISTERING: "Registering",
        NO_ARC: "NotRegistered",
        ARC_REGISTERED: "Registered",
        ARC_UNREGISTERED: "Unregistered",
    }
    resources: list[dict[str, Any]] = []
    for sub in subs:
        if sub != NO_ARC:
            resources += [_rg(sub), _arc(sub, f"arc-{sub[-1]}-a"), _arc(sub, f"arc-{sub[-1]}-b")]
    return {
        "now": "2026-11-26T09:00:00Z",
        "tenantId": TENANT,
        "subscriptions": [
            {
                "subscriptionId": sub,
                "displayName": f"sub-{sub[-1]}",
                "state": "Enabled",
                "tenantId": TENANT,
                "providers": {"Microsoft.Compute": state},
            }
            for sub, state in subs.items()
        ],
        "resources": resources,
    }


def _flagged(plan_json: dict[str, Any]) -> set[str]:
    return {c["resource_id"].split("/")[2] for c in plan_json["changes"]}


def test_registers_exactly_the_subscriptions_that_hold_arc_machines() -> None:
    result = run_through_emulator(estate(), ["arc-compute-provider"])
    flagged = {c.resource_id.split("/")[2] for c in result.first.changes}
    assert flagged == {ARC_NOT_REGISTERED, ARC_REGISTERING, ARC_UNREGISTERED}
    assert statuses(result.applied) == {"applied"}
    emulator = result.emulator
    for sub in (ARC_NOT_REGISTERED, ARC_REGISTERING, ARC_UNREGISTERED, ARC_REGISTERED):
        assert emulator.provider_state(sub, "Microsoft.Compute") == "Registered"
    assert emulator.provider_state(NO_ARC, "Microsoft.Compute") == "NotRegistered"
    # apply, then plan again: no changes
    assert result.again.changes == ()
    assert result.errors == ()


def test_a_provider_already_registering_is_waited_for_not_registered_again() -> None:
    with harness(estate(), ["arc-compute-provider"]) as h:
        plan = h.plan().plan
        h.apply(plan)
        registers = [e for e in h.emulator.request_log if e.method == "POST" and e.path.lower().endswith("/register")]
        subs = {e.path.split("/")[2] for e in registers}
        assert subs == {ARC_NOT_REGISTERED, ARC_UNREGISTERED}
        assert h.plan().plan.changes == ()


def test_cli_dry_run_then_fix_on_an_unseen_estate(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(estate()))
    args = ["run", "--estate", str(path), "--playbook", "arc-compute-provider", "--format", "json"]
    dry = run_cli([*args[:1], "--dry-run", *args[1:]])
    assert dry.code == 2, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["dry_run"] is True
    assert _flagged(doc) == {ARC_NOT_REGISTERED, ARC_REGISTERING, ARC_UNREGISTERED}
    assert doc["outcomes"] == []
    fixed = run_cli(args)
    assert fixed.code == 0, fixed.stderr
    doc = json.loads(fixed.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    assert doc["plan_after_apply"]["changes"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--estate", "/nonexistent/estate.json"], "estate"),
        (["run", "--estate", "demo", "--playbook", "no-such-playbook"], "unknown playbook 'no-such-playbook'"),
        (["run", "--estate", "demo", "--subscription", "prod"], "invalid subscription id 'prod'"),
        (["run", "--estate", "demo", "--subscription", "ffffffff-0000-0000-0000-00000000ffff"], "ffffffff"),
        (["run", "--estate", "demo", "--format", "yaml"], "'yaml' is not one of"),
        (["plan", "--estate", "demo"], "plan needs --out"),
        (["apply", "/nonexistent/plan.json", "--yes"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], message: str) -> None:
    result = run_cli(args)
    assert result.code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_estate_names_the_json_path(tmp_path: Path) -> None:
    bad = estate()
    bad["resources"][1]["id"] = "not-an-arm-id"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = run_cli(["run", "--dry-run", "--estate", str(path)])
    assert result.code == 1
    assert "$.resources[1]" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_plan_then_apply_and_stale_plans(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(estate()))
    plan_file = tmp_path / "plan.json"
    planned = run_cli(["plan", "--estate", str(path), "--playbook", "arc-compute-provider", "--out", str(plan_file)])
    assert planned.code == 2, planned.stderr
    applied = run_cli(["apply", str(plan_file), "--yes", "--estate", str(path), "--format", "json"])
    assert applied.code == 0, applied.stderr
    assert {o["status"] for o in json.loads(applied.stdout)["outcomes"]} == {"applied"}
    # Against an estate where one target has moved on since the plan was made: that change is stale.
    moved = estate()
    moved["subscriptions"][0]["providers"]["Microsoft.Compute"] = "Registering"
    path.write_text(json.dumps(moved))
    stale = run_cli(["apply", str(plan_file), "--yes", "--estate", str(path), "--format", "json"])
    outcomes = {o["change_id"]: o["status"] for o in json.loads(stale.stdout)["outcomes"]}
    assert sorted(outcomes.values()) == ["applied", "applied", "stale"]
    assert stale.code == 2
