from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediator import Change, Finding, Plan
from remediator.errors import PlanFileError
from remediator.planfile import plan_to_json, read_plan, write_plan

RID = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Compute"


def _plan() -> Plan:
    finding = Finding("arc-compute-provider", RID, "high", "t", "d", "troubleshoot.md#x", True, data={"n": 2})
    change = Change(
        finding.id,
        "arc-compute-provider",
        RID,
        "register-provider",
        before={"registrationState": "NotRegistered"},
        after={"registrationState": "Registered"},
        order=10,
    )
    return Plan(
        generated_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
        dry_run=True,
        scope={"subscriptions": []},
        findings=(finding,),
        changes=(change,),
    )


def test_round_trip_keeps_ids_and_fingerprints(tmp_path: Path) -> None:
    plan = _plan()
    write_plan(plan, tmp_path / "plan.json")
    back = read_plan(tmp_path / "plan.json")
    assert [c.id for c in back.changes] == [c.id for c in plan.changes]
    assert back.changes[0].fingerprint == plan.changes[0].fingerprint
    assert back.findings[0].id == plan.findings[0].id


def test_contract_fields_are_present() -> None:
    doc = plan_to_json(_plan())
    assert doc["format_version"] == "1.0"
    assert doc["summary"]["by_playbook"] == {"arc-compute-provider": 1}
    change = doc["changes"][0]
    for key in ("id", "finding_id", "playbook", "resource_id", "action", "before", "after", "fingerprint"):
        assert key in change
    for key in ("id", "playbook", "resource_id", "severity", "title", "detail", "doc", "fixable"):
        assert key in doc["findings"][0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format_version="2.0"), "format_version 2.0 is not supported"),
        (lambda d: d["changes"][0]["before"].update(registrationState="Registered"), "$.changes[0]: does not match"),
        (lambda d: d["changes"][0].pop("fingerprint"), "$.changes[0]: 'fingerprint' is a required property"),
        (lambda d: d["findings"][0].update(severity="urgent"), "$.findings[0].severity"),
        (lambda d: d.update(generated_at="yesterday"), "$.generated_at: not an ISO 8601 time"),
    ],
)
def test_bad_plans_are_refused_with_the_path(tmp_path: Path, mutate: object, message: str) -> None:
    doc = plan_to_json(_plan())
    mutate(doc)  # type: ignore[operator]
    (tmp_path / "plan.json").write_text(json.dumps(doc))
    with pytest.raises(PlanFileError) as err:
        read_plan(tmp_path / "plan.json")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="no such file"):
        read_plan(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PlanFileError, match="not JSON: line 1"):
        read_plan(tmp_path / "bad.json")
