"""Markdown for a pull-request comment or a CI step summary: always within GitHub's 65,536 characters.

Summary first; then the most severe findings and the changes while they fit, then "N more in the
artifact" (the JSON plan, HTML and JUnit reports the pipeline uploads hold everything).
"""

from __future__ import annotations

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

# GitHub refuses a comment body longer than 65,536 characters; keep room for a footer.
LIMIT = 65_536
FOOTER_RESERVE = 400


MAX_MESSAGES = 20
MAX_MESSAGE = 500


def _cell(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "'")
    return escaped.replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


def _messages(prefix: str, messages: tuple[str, ...]) -> list[str]:
    """Errors and notes, each bounded, at most MAX_MESSAGES of them: they must not crowd out the rest."""
    lines = [f"> {prefix}: {_cell(m[:MAX_MESSAGE])}" for m in messages[:MAX_MESSAGES]]
    if len(messages) > MAX_MESSAGES:
        lines.append(f"> {len(messages) - MAX_MESSAGES} more ({prefix}) in the artifact")
    return lines


def _summary(plan: Plan, ctx: ReportContext) -> list[str]:
    s = summarize(plan)
    lines = [f"## aum-remediator {headline(plan, s)}", ""]
    if s.findings:
        sev = [x for x in reversed(SEVERITIES) if s.by_severity.get(x)]
        lines += ["| playbook | subscription | " + " | ".join(sev) + " | total |"]
        lines += ["|---|---|" + "---:|" * (len(sev) + 1)]
        rows: dict[tuple[str, str], dict[str, int]] = {}
        for (pb, sub, sv), n in s.by_playbook_subscription_severity.items():
            rows.setdefault((pb, sub), {})[sv] = n
        ordered = sorted(rows.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        for (pb, sub), counts in ordered[:100]:
            cells = " | ".join(str(counts.get(x, "")) for x in sev)
            lines.append(f"| {pb} | {_cell(subscription_name(sub, ctx))} | {cells} | {sum(counts.values())} |")
        if len(ordered) > 100:
            lines.append(f"| {len(ordered) - 100} more rows | | " + " | " * len(sev) + " |")
        lines.append(f"| **all** | | {' | '.join(str(s.by_severity.get(x, 0)) for x in sev)} | **{s.findings}** |")
        lines.append("")
    if s.changes_by_action:
        lines.append("Changes by action: " + ", ".join(f"`{a}` {n}" for a, n in s.changes_by_action.items()) + ".")
        lines.append("")
    return lines


def render_markdown(
    plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = (), ctx: ReportContext | None = None
) -> str:
    ctx = ctx or ReportContext()
    head = _summary(plan, ctx)
    head += _messages("**error**", errors) + _messages("note", notes)
    if errors or notes:
        head.append("")
    budget = LIMIT - FOOTER_RESERVE - sum(len(x) + 1 for x in head)
    body: list[str] = []
    more: list[str] = []

    def fill(title: str, header: list[str], rows: list[str], what: str) -> None:
        nonlocal budget
        if not rows:
            return
        cost = sum(len(x) + 1 for x in [title, *header])
        if cost >= budget:
            more.append(f"{len(rows)} {what}")
            return
        budget -= cost
        body.extend([title, *header])
        limit = len(rows) if ctx.top <= 0 else ctx.top
        shown = 0
        for row in rows[:limit]:
            if len(row) + 1 > budget:
                break
            body.append(row)
            budget -= len(row) + 1
            shown += 1
        body.append("")
        budget -= 1
        if shown < len(rows):
            more.append(f"{len(rows) - shown} more {what}")

    findings = [finding_row(f, ctx) for f in ordered_findings(plan)]
    fill(
        f"### Findings ({len(findings)})",
        ["| severity | playbook | resource | finding | fix |", "|---|---|---|---|---|"],
        [
            f"| {r['severity']} | {r['playbook']} | `{_cell(r['resource'])}` | **{_cell(r['title'])}**<br>"
            f"{_cell(r['detail'])}" + (f" ([doc]({r['doc']}))" if r["doc"] else "") + f" | {r['fixable']} |"
            for r in findings
        ],
        "findings",
    )
    outcomes = outcomes_by_change(plan)
    changes = [change_row(c, outcomes.get(c.id)) for c in plan.changes]
    fill(
        f"### Changes ({len(changes)})",
        ["| action | resource | before → after | outcome |", "|---|---|---|---|"],
        [
            f"| `{r['action']}` | `{_cell(r['resource'])}` | {_cell(chr(10).join(r['diff']))} | {_cell(r['outcome'])} |"
            for r in changes
        ],
        "changes",
    )
    footer = [f"_{' and '.join(more)} in the artifact (plan JSON, HTML and JUnit reports)._", ""] if more else []
    text = "\n".join(head + body + footer) + "\n"
    if len(text) > LIMIT:  # only a summary of thousands of subscriptions gets here
        text = text[: LIMIT - FOOTER_RESERVE] + "\n\n_Cut to fit a pull-request comment: the artifact holds all._\n"
    return text
