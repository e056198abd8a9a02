"""JUnit XML: one test case per finding, failing while it is unfixed, for CI dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..model import Plan


def render_junit(plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> str:
    fixed = {o.change_id for o in plan.outcomes if o.status in ("applied", "noop")}
    changes_by_finding: dict[str, list[str]] = {}
    for c in plan.changes:
        changes_by_finding.setdefault(c.finding_id, []).append(c.id)
    suite = ET.Element("testsuite", name="aum-remediator", tests=str(len(plan.findings) + len(errors)))
    failures = 0
    for f in plan.findings:
        case = ET.SubElement(suite, "testcase", classname=f.playbook, name=f.resource_id)
        ids = changes_by_finding.get(f.id, [])
        if ids and all(i in fixed for i in ids):
            continue
        failures += 1
        failure = ET.SubElement(case, "failure", message=f.title, type=f.severity)
        failure.text = f"{f.detail}\n{f.doc}"
    for e in errors:
        case = ET.SubElement(suite, "testcase", classname="remediator", name="error")
        ET.SubElement(case, "error", message=e)
    suite.set("failures", str(failures))
    suite.set("errors", str(len(errors)))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
