"""JUnit XML that CI test tabs (GitHub, Azure DevOps, GitLab) read well.

One suite per playbook. A finding is a failing case until a change of this run fixed it (then it
passes); every subscription the run checked without a finding of that playbook is a passing case,
so the pass rate says how much of the estate is healthy. Errors of the run are a suite of their own.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from datetime import UTC

from ..model import Finding, Plan
from .view import (
    ReportContext,
    change_row,
    finding_row,
    ordered_findings,
    outcomes_by_change,
    subscription_name,
    subscription_of,
)


def _fixed_findings(plan: Plan) -> dict[str, list[str]]:
    """Finding id -> the descriptions of the changes that fixed it, when every one of them succeeded."""
    outcomes = outcomes_by_change(plan)
    by_finding: dict[str, list[str]] = {}
    done: dict[str, bool] = {}
    for change in plan.changes:
        outcome = outcomes.get(change.id)
        ok = outcome is not None and outcome.status in ("applied", "noop")
        done[change.finding_id] = done.get(change.finding_id, True) and ok
        row = change_row(change, outcome)
        by_finding.setdefault(change.finding_id, []).append(
            f"{row['action']} {row['resource']}: {'; '.join(row['diff'])} ({row['outcome']})"
        )
    return {fid: lines for fid, lines in by_finding.items() if done.get(fid)}


def _case(suite: ET.Element, f: Finding, ctx: ReportContext, fixed: list[str] | None) -> bool:
    row = finding_row(f, ctx)
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"{f.playbook}.{subscription_name(row['subscription'], ctx)}",
        name=f"{f.resource_id}: {f.title}",
        time="0",
    )
    if fixed is not None:
        ET.SubElement(case, "system-out").text = "fixed: " + "\n".join(fixed)
        return False
    failure = ET.SubElement(case, "failure", message=f.title, type=f.severity)
    failure.text = f"{f.detail}\nfix: {row['fixable']}\n{row['doc']}"
    return True


def render_junit(
    plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = (), ctx: ReportContext | None = None
) -> str:
    ctx = ctx or ReportContext()
    started = ctx.started_at or plan.generated_at
    timestamp = started.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    root = ET.Element("testsuites", name="aum-remediator", time=f"{ctx.elapsed_seconds:.3f}", timestamp=timestamp)
    fixed = _fixed_findings(plan)
    by_playbook: dict[str, list[Finding]] = {}
    for f in ordered_findings(plan):
        by_playbook.setdefault(f.playbook, []).append(f)
    playbooks = sorted(set(ctx.playbooks) | set(by_playbook))
    host = socket.gethostname()
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for pb in playbooks:
        spent = f"{ctx.playbook_seconds.get(pb, 0.0):.3f}"
        suite = ET.SubElement(root, "testsuite", name=pb, timestamp=timestamp, hostname=host, time=spent)
        findings = by_playbook.get(pb, [])
        failures = sum(_case(suite, f, ctx, fixed.get(f.id)) for f in findings)
        affected = {subscription_of(f.resource_id) for f in findings}
        healthy = [sub for sub in sorted(ctx.subscriptions) if sub not in affected]
        for sub in healthy:
            ET.SubElement(suite, "testcase", classname=f"{pb}.{subscription_name(sub, ctx)}", name="healthy", time="0")
        tests = len(findings) + len(healthy)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        totals["tests"] += tests
        totals["failures"] += failures
    if errors or notes:
        suite = ET.SubElement(root, "testsuite", name="remediator", timestamp=timestamp, hostname=host, time="0")
        for e in errors:
            case = ET.SubElement(suite, "testcase", classname="remediator", name="run", time="0")
            ET.SubElement(case, "error", message=e[:500]).text = e
        if notes:
            case = ET.SubElement(suite, "testcase", classname="remediator", name="notes", time="0")
            ET.SubElement(case, "system-out").text = "\n".join(notes)
        suite.set("tests", str(len(errors) + (1 if notes else 0)))
        suite.set("failures", "0")
        suite.set("errors", str(len(errors)))
        totals["tests"] += len(errors) + (1 if notes else 0)
        totals["errors"] += len(errors)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
