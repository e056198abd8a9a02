"""`--shard INDEX/COUNT` and `report merge`: replicas divide a tenant with no coordinator.

The union of the shards' plans must be the plan of one unsharded run (same findings, same
changes), and no change may be planned by two shards (two replicas would write it twice).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediator.emulator.generate import generate_estate
from remediator.emulator.graph import routes as graph_routes
from remediator.shards import shard_of
from tests.cli_runner import run_cli
from tests.data.policy import builders as b

SHARDS = 3
PRINCIPAL = "aaaaaaaa-1111-4111-8111-000000000009"


def _plan(tmp_path: Path, estate: Path, config: Path, out: str, *extra: str) -> dict[str, Any]:
    path = tmp_path / out
    result = run_cli(["plan", "--estate", str(estate), "--config", str(config), "--out", str(path), *extra])
    assert result.code in (0, 2), result.stderr
    doc: dict[str, Any] = json.loads(path.read_text())
    assert "errors" not in doc, doc.get("errors")
    return doc


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[dict[str, Any]], Path]:
    tmp_path = tmp_path_factory.mktemp("shards")
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(generate_estate(machines=300, subscriptions=7, seed=5)))
    # The default max_changes trims each plan on its own; the comparison is about what is found.
    config = tmp_path / "remediator.yaml"
    config.write_text("guardrails:\n  max_changes: 100000\n")
    whole = _plan(tmp_path, estate, config, "whole.json")
    shards = [_plan(tmp_path, estate, config, f"shard-{i}.json", "--shard", f"{i}/{SHARDS}") for i in range(SHARDS)]
    return whole, shards, tmp_path


def test_the_shards_plans_together_are_the_unsharded_plan(
    plans: tuple[dict[str, Any], list[dict[str, Any]], Path],
) -> None:
    whole, shards, _ = plans
    assert whole["changes"], "the generated estate has something to fix"
    assert all(s["findings"] for s in shards), "every shard got a share of the work"
    assert sorted(f["id"] for s in shards for f in s["findings"]) == sorted(f["id"] for f in whole["findings"])
    changes = [c["id"] for s in shards for c in s["changes"]]
    assert len(changes) == len(set(changes)), "a change is planned by two shards"
    assert sorted(changes) == sorted(c["id"] for c in whole["changes"])


def test_a_shard_plans_only_for_its_own_subscriptions(
    plans: tuple[dict[str, Any], list[dict[str, Any]], Path],
) -> None:
    _, shards, _ = plans
    for index, shard in enumerate(shards):
        assert shard["scope"]["shard"] == f"{index}/{SHARDS}"
        for finding in shard["findings"]:
            parts = finding["resource_id"].split("/")
            if finding["resource_id"].lower().startswith("/subscriptions/"):
                assert shard_of(parts[2], SHARDS) == index, finding["resource_id"]
            else:
                assert index == 0, "tenant-wide work belongs to shard 0"


def test_report_merge_joins_the_shards_into_one_report(
    plans: tuple[dict[str, Any], list[dict[str, Any]], Path],
) -> None:
    whole, _, tmp_path = plans
    files = [str(tmp_path / f"shard-{i}.json") for i in range(SHARDS)]
    merged = run_cli(["report", "merge", *files, "--format", "json"])
    assert merged.code == 2, merged.stderr
    doc = json.loads(merged.stdout)
    assert doc["summary"] == whole["summary"]
    assert [c["id"] for c in doc["changes"]] == [c["id"] for c in whole["changes"]]
    assert doc["scope"]["shards"] == [f"{i}/{SHARDS}" for i in range(SHARDS)]


def test_a_shard_whose_plan_carries_an_error_makes_the_merged_report_an_error(
    plans: tuple[dict[str, Any], list[dict[str, Any]], Path],
) -> None:
    _, shards, tmp_path = plans
    broken = tmp_path / "broken-1.json"
    broken.write_text(json.dumps({**shards[1], "errors": ["playbook x: detect failed: boom"]}))
    files = [str(tmp_path / "shard-0.json"), str(broken), str(tmp_path / "shard-2.json")]
    merged = run_cli(["report", "merge", *files, "--format", "json"])
    assert merged.code == 1
    assert json.loads(merged.stdout)["errors"] == ["broken-1.json: playbook x: detect failed: boom"]


def test_bad_shard_and_bad_plan_are_one_line_errors(tmp_path: Path) -> None:
    bad = run_cli(["run", "--dry-run", "--estate", "demo", "--shard", "3/3"])
    assert bad.code == 1
    assert bad.stderr.strip() == "error: invalid --shard '3/3': need 0 <= INDEX < COUNT <= 1000"
    missing = run_cli(["report", "merge", str(tmp_path / "nope.json")])
    assert missing.code == 1
    assert "no such file" in missing.stderr and missing.stderr.count("\n") == 1


def test_a_scope_too_large_for_one_query_is_refused_not_read_in_part(
    plans: tuple[dict[str, Any], list[dict[str, Any]], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resource Graph refuses a tenant or management group with more subscriptions than one query
    covers (TooManySubscriptionsUnderScope) unless asked for a partial answer; the bot never asks
    (a machine missing from a read would look deleted): one line, exit 1, nothing planned."""
    _, _, tmp_path = plans
    estate, config = tmp_path / "estate.json", tmp_path / "remediator.yaml"
    monkeypatch.setattr(graph_routes, "SUBSCRIPTIONS_UNDER_SCOPE_LIMIT", 2)
    out = tmp_path / "refused.json"
    for extra in (["--management-group", "mg-root"], ["--shard", "0/2"]):
        refused = run_cli(["plan", "--estate", str(estate), "--config", str(config), "--out", str(out), *extra])
        assert refused.code == 1
        assert refused.stderr.startswith("error: Resource Graph refuses to query ")
        assert "TooManySubscriptionsUnderScope" in refused.stderr and refused.stderr.count("\n") == 1
        assert not out.exists()


# Subscription 1 falls on shard 0 of 2, subscription 2 on shard 1 (stable SHA-256; checked below).
SHARD0_SUB = "00000001-1111-4111-8111-111111111111"
SHARD1_SUB = "00000002-1111-4111-8111-111111111111"


def test_work_at_a_management_group_is_planned_once_though_its_machines_are_in_other_shards(
    tmp_path: Path,
) -> None:
    """An Update Manager policy assigned at a management group, its identity without the role it
    needs there, its non-compliant machines all in shard 1's subscription: the grant at the group
    is tenant-wide work and must be planned once (shard 0), the remediation by shard 1."""
    assert (shard_of(SHARD0_SUB, 2), shard_of(SHARD1_SUB, 2)) == (0, 1)
    group = b.management_group(b.MG, [SHARD0_SUB, SHARD1_SUB])
    assignment = b.policy_assignment(b.MG_ID, "vm-assessment", b.VM_ASSESSMENT, principal=PRINCIPAL)
    machines = [b.vm(SHARD1_SUB, "vms", f"vm-{i}", attach=True, os_profile=False) for i in range(2)]
    resources = [group, b.resource_group(SHARD0_SUB, "vms"), b.resource_group(SHARD1_SUB, "vms"), assignment]
    states = [b.state(m, assignment, b.VM_ASSESSMENT) for m in machines]
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(b.estate([*resources, *machines], states, subs=(SHARD0_SUB, SHARD1_SUB))))
    config = tmp_path / "remediator.yaml"
    config.write_text("playbooks:\n  enabled: [policy-identity-roles, policy-remediation]\n")
    scope = ["--management-group", b.MG]
    whole = _plan(tmp_path, estate, config, "whole.json", *scope)
    shards = [_plan(tmp_path, estate, config, f"shard-{i}.json", *scope, "--shard", f"{i}/2") for i in range(2)]
    grants = [c for c in whole["changes"] if c["playbook"] == "policy-identity-roles"]
    assert grants and all(c["resource_id"].lower().startswith(b.MG_ID.lower()) for c in grants)
    assert [c["id"] for c in shards[0]["changes"]] == [c["id"] for c in grants]
    changes = [c["id"] for s in shards for c in s["changes"]]
    assert sorted(changes) == sorted(c["id"] for c in whole["changes"])
    assert sorted(f["id"] for s in shards for f in s["findings"]) == sorted(f["id"] for f in whole["findings"])


def test_a_machine_moved_into_another_shards_subscription_is_repaired_by_one_shard(tmp_path: Path) -> None:
    """The stale assignment sits in subscription A, the moved machine in B, on different shards:
    the shard of A (the only one that sees the stale assignment) plans both the new assignment in
    B and the delete of the stale one, in that order; no other shard plans either."""
    from tests.data.maintenance.estates import SUB_A, SUB_B
    from tests.e2e.test_maintenance_playbooks import moved_estate

    count = 5
    shard_a, shard_b = shard_of(SUB_A, count), shard_of(SUB_B, count)
    assert shard_a != shard_b
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(moved_estate()))
    config = tmp_path / "remediator.yaml"
    config.write_text("playbooks:\n  enabled: [maintenance-moved-resource]\n")
    whole = _plan(tmp_path, estate, config, "whole.json")
    shards = [_plan(tmp_path, estate, config, f"s{i}.json", "--shard", f"{i}/{count}") for i in range(count)]
    actions = [c["action"] for c in sorted(shards[shard_a]["changes"], key=lambda c: c["order"])]
    assert actions == ["create-configuration-assignment", "delete-configuration-assignment"]
    assert (
        SUB_B in shards[shard_a]["changes"][0]["resource_id"] or SUB_B in shards[shard_a]["changes"][1]["resource_id"]
    )
    assert all(not s["changes"] for i, s in enumerate(shards) if i != shard_a)
    assert sorted(f["id"] for s in shards for f in s["findings"]) == sorted(f["id"] for f in whole["findings"])
    assert sorted(c["id"] for s in shards for c in s["changes"]) == sorted(c["id"] for c in whole["changes"])
