"""A terminal table of findings, changes and outcomes (rich), for people running by hand."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from ..model import Plan


def render_table(plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=160, force_terminal=False, color_system=None)
    outcomes = {o.change_id: o for o in plan.outcomes}
    findings = Table(title=f"Findings ({len(plan.findings)})", show_lines=False)
    for col in ("playbook", "severity", "resource", "finding", "fixable"):
        findings.add_column(col, overflow="fold")
    for f in plan.findings:
        findings.add_row(f.playbook, f.severity, f.resource_id, f"{f.title}\n{f.detail}", "yes" if f.fixable else "no")
    console.print(findings)
    changes = Table(title=f"Changes ({len(plan.changes)})" + (" - dry run" if plan.dry_run else ""))
    for col in ("playbook", "action", "resource", "before -> after", "outcome"):
        changes.add_column(col, overflow="fold")
    for c in plan.changes:
        o = outcomes.get(c.id)
        status = "-" if o is None else o.status + (f" ({o.error.code}: {o.error.message})" if o.error else "")
        changes.add_row(c.playbook, c.action, c.resource_id, f"{dict(c.before)} -> {dict(c.after)}", status)
    console.print(changes)
    summary = plan.summary()
    line = f"{summary['findings']} findings, {summary['changes']} changes"
    if plan.outcomes:
        line += ", outcomes: " + ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items())
    if plan.replan is not None:
        line += f"; plan after apply: {len(plan.replan.changes)} changes left"
    console.print(line)
    for note in notes:
        console.print(f"note: {note}")
    for error in errors:
        console.print(f"error: {error}")
    return buffer.getvalue()
