"""Markdown, for a pull-request comment from CI."""

from __future__ import annotations

from ..model import Plan


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> str:
    s = plan.summary()
    lines = [
        f"## aum-remediator {'plan' if plan.dry_run else 'apply'}: {s['findings']} findings, {s['changes']} changes",
        "",
    ]
    if plan.findings:
        lines += ["| playbook | severity | resource | finding | fixable |", "|---|---|---|---|---|"]
        lines += [
            f"| {f.playbook} | {f.severity} | `{_cell(f.resource_id)}` | {_cell(f.title)}: {_cell(f.detail)} | "
            f"{'yes' if f.fixable else 'no'} |"
            for f in plan.findings
        ]
        lines.append("")
    outcomes = {o.change_id: o for o in plan.outcomes}
    if plan.changes:
        lines += ["| playbook | action | resource | outcome |", "|---|---|---|---|"]
        for c in plan.changes:
            o = outcomes.get(c.id)
            status = "pending" if o is None else o.status + (f" ({o.error.code})" if o.error else "")
            lines.append(f"| {c.playbook} | {c.action} | `{_cell(c.resource_id)}` | {status} |")
        lines.append("")
    if plan.replan is not None:
        left = len(plan.replan.changes)
        lines += [f"Plan after apply: {'nothing left to fix' if not left else f'{left} changes left'}.", ""]
    lines += [f"> note: {_cell(n)}" for n in notes]
    lines += [f"> **error**: {_cell(e)}" for e in errors]
    return "\n".join(lines) + "\n"
