"""A self-contained HTML report (one file, no network): summary cards, charts, filters, doc links.

Built from a Jinja2 template with autoescaping. The rows travel as one compact JSON document
(repeated strings interned into lists) that the page filters and pages through 100 rows at a
time, so 100,000 findings stay a file a browser opens in seconds. The filters live in the URL
fragment (``#playbook=...&severity=high``): a filtered view is a link someone can share.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..model import SEVERITIES, Plan
from .view import (
    ReportContext,
    Summary,
    change_row,
    finding_row,
    headline,
    ordered_findings,
    outcomes_by_change,
    subscription_name,
    subscription_of,
    summarize,
)

SEVERITY_COLORS = {"critical": "#a40e26", "high": "#d1242f", "medium": "#9a6700", "low": "#0969da"}
STATUS_COLORS = {"applied": "#1a7f37", "noop": "#1a7f37", "failed": "#d1242f", "stale": "#9a6700", "skipped": "#9a6700"}
BAR_WIDTH = 220
CHART_BARS = 12


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("remediator.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class _Interned:
    """Index of each distinct string, in first-seen order: a 100,000-row report repeats few of them."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        index = self._index.get(value)
        if index is None:
            index = self._index[value] = len(self.values)
            self.values.append(value)
        return index


def _bars(counts: Mapping[str, int], colors: Mapping[str, str], default: str = "#57606a") -> list[dict[str, Any]]:
    items = list(counts.items())[:CHART_BARS]
    peak = max((n for _, n in items), default=0) or 1
    return [
        {"label": k, "value": n, "width": max(2, round(BAR_WIDTH * n / peak)), "color": colors.get(k, default)}
        for k, n in items
    ]


def _charts(summary: Summary, ctx: ReportContext) -> list[dict[str, Any]]:
    severities: dict[str, int] = {s: summary.by_severity[s] for s in reversed(SEVERITIES) if summary.by_severity.get(s)}
    # Charts name a subscription by its display name (the filters and rows add its id).
    subs = {ctx.subscriptions.get(k) or k: n for k, n in summary.by_subscription.items()}
    return [
        {"id": "severity", "title": "Findings by severity", "bars": _bars(severities, SEVERITY_COLORS)},
        {"id": "playbook", "title": "Findings by playbook", "bars": _bars(summary.by_playbook, {})},
        {"id": "subscription", "title": "Findings by subscription (top 12)", "bars": _bars(subs, {})},
        {"id": "action", "title": "Changes by action", "bars": _bars(summary.changes_by_action, {})},
        {"id": "outcome", "title": "Outcomes", "bars": _bars(summary.outcomes, STATUS_COLORS)},
    ]


def _data(plan: Plan, ctx: ReportContext) -> dict[str, Any]:
    playbooks, subs, titles, docs = _Interned(), _Interned(), _Interned(), _Interned()
    severities = list(reversed(SEVERITIES))
    for pid in sorted(ctx.playbooks):
        playbooks(pid)
    findings = []
    for f in ordered_findings(plan):
        row = finding_row(f, ctx)
        findings.append(
            [
                playbooks(f.playbook),
                subs(subscription_name(row["subscription"], ctx)),
                severities.index(f.severity),
                f.resource_id,
                titles(f.title),
                f.detail,
                row["fixable"],
                docs(row["doc"]),
            ]
        )
    outcomes = outcomes_by_change(plan)
    changes = []
    for c in plan.changes:
        row = change_row(c, outcomes.get(c.id))
        changes.append(
            [
                playbooks(c.playbook),
                subs(subscription_name(subscription_of(c.resource_id), ctx)),
                c.action,
                c.resource_id,
                "\n".join(row["diff"]),
                row["outcome"],
                row["status"],
            ]
        )
    return {
        "playbooks": playbooks.values,
        "subscriptions": subs.values,
        "severities": severities,
        "titles": titles.values,
        "docs": docs.values,
        "findings": findings,
        "changes": changes,
    }


def render_html(
    plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = (), ctx: ReportContext | None = None
) -> str:
    ctx = ctx or ReportContext()
    summary = summarize(plan)
    scope = plan.scope
    where = (
        f"management group {scope['management_group']}"
        if scope.get("management_group")
        else f"{len(scope.get('subscriptions') or [])} subscriptions"
        if scope.get("subscriptions")
        else "every subscription the identity can read"
    )
    template = _environment().get_template("report.html.j2")
    return (
        template.render(
            title=f"aum-remediator {headline(plan, summary)}",
            generated_at=plan.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
            run_id=ctx.run_id,
            scope=where,
            locale=ctx.locale,
            dry_run=plan.dry_run,
            summary=summary,
            charts=_charts(summary, ctx),
            errors=errors,
            notes=notes,
            data=_data(plan, ctx),
        )
        + "\n"
    )
