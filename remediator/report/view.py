"""What every report shows, computed once: the summary, the rows in reading order, their labels.

Renderers differ in layout only; counts, ordering, "opt-in (off)" labels, doc links and
before -> after diffs come from here, so a table, a pull-request comment and an HTML page of
the same run never disagree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..estate import parse_resource_id
from ..model import SEVERITIES, Change, Finding, Outcome, Plan
from .diff import diff_lines
from .doclinks import DEFAULT_LOCALE, doc_url

SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # critical first


@dataclass(frozen=True)
class PlaybookInfo:
    title: str = ""
    fixing: bool = True
    report_only: bool = False


@dataclass(frozen=True)
class ReportContext:
    """What a report knows beyond the plan: the run's playbooks, subscriptions and the reader's choices."""

    locale: str = DEFAULT_LOCALE
    # Detail rows a bounded report (table, markdown) shows before "N more"; 0 shows all.
    top: int = 50
    playbooks: Mapping[str, PlaybookInfo] = field(default_factory=dict)
    # Subscriptions the run checked: lowercase id -> display name.
    subscriptions: Mapping[str, str] = field(default_factory=dict)
    run_id: str = ""
    started_at: datetime | None = None
    elapsed_seconds: float = 0.0
    # Seconds each playbook spent detecting and planning (JUnit suite times).
    playbook_seconds: Mapping[str, float] = field(default_factory=dict)
    # Terminal output: colour and width (None: the console's own, COLUMNS included).
    color: bool = False
    width: int | None = None


def subscription_of(resource_id: str) -> str:
    return parse_resource_id(resource_id).get("subscription", "").lower()


def fixable_label(finding: Finding, ctx: ReportContext) -> str:
    """``yes`` when a change is planned for it, ``opt-in (off)`` when its fix waits for the config."""
    if not finding.fixable:
        return "no"
    info = ctx.playbooks.get(finding.playbook)
    return "opt-in (off)" if info is not None and not info.fixing else "yes"


def outcome_label(outcome: Outcome | None) -> str:
    if outcome is None:
        return "pending"
    if outcome.error is not None:
        return f"{outcome.status} ({outcome.error.code}: {outcome.error.message})"
    return outcome.status


def ordered_findings(plan: Plan) -> list[Finding]:
    """Most severe first, then by playbook and resource: the top of any cut is what matters most."""
    return sorted(
        plan.findings, key=lambda f: (SEVERITY_RANK.get(f.severity, 9), f.playbook, f.resource_id.lower(), f.key)
    )


@dataclass(frozen=True)
class Summary:
    findings: int
    changes: int
    by_playbook_subscription_severity: Mapping[tuple[str, str, str], int]
    by_playbook: Mapping[str, int]
    by_severity: Mapping[str, int]
    by_subscription: Mapping[str, int]
    changes_by_action: Mapping[str, int]
    outcomes: Mapping[str, int]
    left_after_apply: int | None

    def severity_counts(self) -> list[tuple[str, int]]:
        return [(s, self.by_severity.get(s, 0)) for s in reversed(SEVERITIES) if self.by_severity.get(s)]


def summarize(plan: Plan) -> Summary:
    cube: Counter[tuple[str, str, str]] = Counter(
        (f.playbook, subscription_of(f.resource_id), f.severity) for f in plan.findings
    )
    by_playbook: Counter[str] = Counter()
    by_severity: Counter[str] = Counter()
    by_subscription: Counter[str] = Counter()
    for (pb, sub, sev), n in cube.items():
        by_playbook[pb] += n
        by_severity[sev] += n
        by_subscription[sub] += n
    return Summary(
        findings=len(plan.findings),
        changes=len(plan.changes),
        by_playbook_subscription_severity=dict(sorted(cube.items())),
        by_playbook=dict(by_playbook.most_common()),
        by_severity=dict(by_severity),
        by_subscription=dict(by_subscription.most_common()),
        changes_by_action=dict(Counter(c.action for c in plan.changes).most_common()),
        outcomes=dict(Counter(o.status for o in plan.outcomes).most_common()),
        left_after_apply=len(plan.replan.changes) if plan.replan is not None else None,
    )


def headline(plan: Plan, summary: Summary | None = None) -> str:
    """One sentence: what the run found and did (also the CLI's closing line)."""
    s = summary or summarize(plan)
    kind = "dry run" if plan.dry_run else "apply"
    text = f"{kind}: {s.findings} findings, {s.changes} changes"
    if s.outcomes:
        text += " (" + ", ".join(f"{n} {status}" for status, n in s.outcomes.items()) + ")"
    if s.left_after_apply is not None:
        text += "; plan after apply: " + (
            "nothing left to fix" if not s.left_after_apply else f"{s.left_after_apply} changes left"
        )
    return text


def subscription_name(sub: str, ctx: ReportContext) -> str:
    name = ctx.subscriptions.get(sub.lower())
    return f"{name} ({sub})" if name and name != sub else sub or "(tenant)"


def finding_row(f: Finding, ctx: ReportContext) -> dict[str, Any]:
    return {
        "playbook": f.playbook,
        "subscription": subscription_of(f.resource_id),
        "severity": f.severity,
        "resource": f.resource_id,
        "title": f.title,
        "detail": f.detail,
        "fixable": fixable_label(f, ctx),
        "doc": doc_url(f.doc, ctx.locale),
    }


def change_row(c: Change, outcome: Outcome | None) -> dict[str, Any]:
    return {
        "playbook": c.playbook,
        "action": c.action,
        "resource": c.resource_id,
        "diff": diff_lines(c.before, c.after),
        "outcome": outcome_label(outcome),
        "status": outcome.status if outcome else "pending",
    }


def outcomes_by_change(plan: Plan) -> dict[str, Outcome]:
    return {o.change_id: o for o in plan.outcomes}
