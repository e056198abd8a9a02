"""The terminal report (rich): summary first, then the top findings and changes, fitted to the width.

The width is the terminal's (``COLUMNS`` when set, as rich reads it); colour only on a terminal.
Long runs show the most severe findings first and say how many more the other formats hold.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..model import SEVERITIES, Plan
from .view import (
    ReportContext,
    change_row,
    finding_row,
    headline,
    ordered_findings,
    outcomes_by_change,
    subscription_name,
    summarize,
)

STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
STATUS_STYLE = {"applied": "green", "noop": "green", "failed": "bold red", "stale": "yellow", "skipped": "yellow"}
MORE = "{n} more {what}: see --format html, json or markdown (--top 0 shows all)"


def _console(buffer: io.StringIO, ctx: ReportContext) -> Console:
    return Console(
        file=buffer,
        width=ctx.width,
        force_terminal=ctx.color,
        color_system="standard" if ctx.color else None,
        no_color=not ctx.color,
        highlight=False,
        soft_wrap=False,
    )


def _cut(total: int, ctx: ReportContext) -> int:
    return total if ctx.top <= 0 else min(total, ctx.top)


def _summary_tables(console: Console, plan: Plan, ctx: ReportContext) -> None:
    s = summarize(plan)
    if s.findings:
        severities = [sev for sev in reversed(SEVERITIES) if s.by_severity.get(sev)]
        grid = Table(title="Findings by playbook, subscription and severity", title_justify="left")
        grid.add_column("playbook", overflow="fold")
        grid.add_column("subscription", overflow="fold")
        for sev in severities:
            grid.add_column(sev, justify="right", style=STYLE.get(sev, ""))
        grid.add_column("total", justify="right")
        rows: dict[tuple[str, str], dict[str, int]] = {}
        for (pb, sub, level), n in s.by_playbook_subscription_severity.items():
            rows.setdefault((pb, sub), {})[level] = n
        ordered = sorted(rows.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        for (pb, sub), counts in ordered[: _cut(len(ordered), ctx)]:
            cells = [str(counts.get(sev, "")) for sev in severities]
            grid.add_row(pb, escape(subscription_name(sub, ctx)), *cells, str(sum(counts.values())))
        if len(ordered) > _cut(len(ordered), ctx):
            grid.caption = f"{len(ordered) - _cut(len(ordered), ctx)} more rows"
        grid.add_section()
        grid.add_row("all", "", *[str(s.by_severity.get(sev, 0)) for sev in severities], str(s.findings))
        console.print(grid)
    if s.changes_by_action:
        actions = Table(title="Changes by action", title_justify="left")
        actions.add_column("action")
        actions.add_column("changes", justify="right")
        for action, n in s.changes_by_action.items():
            actions.add_row(action, str(n))
        console.print(actions)
    if s.outcomes:
        console.print(
            "Outcomes: "
            + ", ".join(
                f"[{STATUS_STYLE.get(k, '')}]{n} {k}[/]" if ctx.color else f"{n} {k}" for k, n in s.outcomes.items()
            )
        )


def render_table(
    plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = (), ctx: ReportContext | None = None
) -> str:
    ctx = ctx or ReportContext()
    buffer = io.StringIO()
    console = _console(buffer, ctx)
    _summary_tables(console, plan, ctx)

    ordered = ordered_findings(plan)
    shown = _cut(len(ordered), ctx)
    if ordered:
        findings = Table(title=f"Findings ({len(ordered)})", title_justify="left", show_lines=True)
        findings.add_column("severity", no_wrap=True)
        findings.add_column("playbook", overflow="fold", ratio=1)
        findings.add_column("resource and finding", overflow="fold", ratio=3)
        findings.add_column("fix", overflow="fold")
        for f in ordered[:shown]:
            row = finding_row(f, ctx)
            body = Text(row["resource"] + "\n", style="dim" if ctx.color else "")
            body.append(row["title"], style="bold" if ctx.color else "")
            body.append("\n" + row["detail"])
            if row["doc"]:
                body.append("\n" + row["doc"], style=f"link {row['doc']}" if ctx.color else "")
            findings.add_row(Text(f.severity, style=STYLE.get(f.severity, "")), f.playbook, body, row["fixable"])
        console.print(findings)
        if shown < len(ordered):
            console.print(MORE.format(n=len(ordered) - shown, what="findings"))

    outcomes = outcomes_by_change(plan)
    if plan.changes:
        title = f"Changes ({len(plan.changes)})" + (" - dry run" if plan.dry_run else "")
        changes = Table(title=title, title_justify="left", show_lines=True)
        changes.add_column("action", overflow="fold", ratio=1)
        changes.add_column("resource and before → after", overflow="fold", ratio=3)
        changes.add_column("outcome", overflow="fold", ratio=1)
        cut = _cut(len(plan.changes), ctx)
        for c in plan.changes[:cut]:
            row = change_row(c, outcomes.get(c.id))
            body = Text(row["resource"] + "\n", style="dim" if ctx.color else "")
            body.append("\n".join(row["diff"]))
            changes.add_row(c.action, body, Text(row["outcome"], style=STATUS_STYLE.get(row["status"], "")))
        console.print(changes)
        if cut < len(plan.changes):
            console.print(MORE.format(n=len(plan.changes) - cut, what="changes"))

    for note in notes:
        console.print(Text(f"note: {note}"))
    for error in errors:
        console.print(Text(f"error: {error}", style="bold red" if ctx.color else ""))
    console.print(Text(headline(plan)))
    return buffer.getvalue()
