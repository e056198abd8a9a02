from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from remediator import Change, Finding, Outcome, Plan
from remediator.model import OutcomeError
from remediator.report import RENDERERS, render

RID = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Compute"


def _plan() -> Plan:
    fixed = Finding("arc-compute-provider", RID, "high", "Compute <unregistered>", "d", "doc", True)
    other = Finding("schedule-conflicts", RID + "/x", "medium", "overlap | two", "d", "doc", False)
    change = Change(fixed.id, fixed.playbook, RID, "register-provider", {"registrationState": "NotRegistered"}, {})
    failed = Change(
        fixed.id, fixed.playbook, RID + "2", "register-provider", {"registrationState": "NotRegistered"}, {}
    )
    return Plan(
        generated_at=datetime(2026, 11, 26, tzinfo=UTC),
        dry_run=False,
        scope={"subscriptions": []},
        findings=(fixed, other),
        changes=(change, failed),
        outcomes=(
            Outcome(change.id, "applied"),
            Outcome(failed.id, "failed", OutcomeError("AuthorizationFailed", "no <access>")),
        ),
    )


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_every_format_names_every_finding_and_outcome(fmt: str) -> None:
    text = render(_plan(), fmt, ("playbook x: detect failed",), ())
    assert "arc-compute-provider" in text and "schedule-conflicts" in text
    assert "AuthorizationFailed" in text or fmt == "junit"
    assert "playbook x: detect failed" in text


def test_json_report_is_the_plan_contract() -> None:
    doc = json.loads(render(_plan(), "json"))
    assert doc["summary"]["outcomes"] == {"applied": 1, "failed": 1}
    assert doc["outcomes"][1]["error"] == {"code": "AuthorizationFailed", "message": "no <access>"}


def test_junit_fails_unfixed_findings_only() -> None:
    suite = ET.fromstring(render(_plan(), "junit", ("boom",)).split("?>", 1)[1])
    failed = {
        suite.get("name")
        for suite in suite.iter("testsuite")
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    }
    # One finding had a failed change, the other is report-only: both still fail.
    assert failed == {"arc-compute-provider", "schedule-conflicts"}
    assert (suite.get("failures"), suite.get("errors")) == ("2", "1")


def test_html_escapes_what_it_shows() -> None:
    page = render(_plan(), "html")
    # Text travels as JSON the page renders with textContent: never as markup.
    assert "\\u003cunregistered\\u003e" in page and "<unregistered>" not in page
