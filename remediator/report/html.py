"""A self-contained HTML page, for a scheduled job's artifact or a dashboard link."""

from __future__ import annotations

from html import escape

from ..model import Plan

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
    "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".failed,.critical,.high{color:#b00}.applied{color:#070}"
)


def _row(cells: list[str], cls: str = "") -> str:
    attr = f' class="{escape(cls)}"' if cls else ""
    return f"<tr{attr}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"


def render_html(plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> str:
    s = plan.summary()
    title = f"aum-remediator {'plan' if plan.dry_run else 'apply'}: {s['findings']} findings, {s['changes']} changes"
    outcomes = {o.change_id: o for o in plan.outcomes}
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"]
    parts.append(f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>")
    parts += [f"<p class='failed'>error: {escape(e)}</p>" for e in errors]
    parts += [f"<p>note: {escape(n)}</p>" for n in notes]
    parts.append("<h2>Findings</h2><table><tr><th>playbook</th><th>severity</th><th>resource</th><th>finding</th>")
    parts.append("<th>fixable</th></tr>")
    for f in plan.findings:
        cells = [f.playbook, f.severity, f.resource_id, f"{f.title}: {f.detail}", "yes" if f.fixable else "no"]
        parts.append(_row(cells, f.severity))
    parts.append("</table><h2>Changes</h2><table><tr><th>playbook</th><th>action</th><th>resource</th>")
    parts.append("<th>before</th><th>after</th><th>outcome</th></tr>")
    for c in plan.changes:
        o = outcomes.get(c.id)
        status = "pending" if o is None else o.status + (f" ({o.error.code}: {o.error.message})" if o.error else "")
        cells = [c.playbook, c.action, c.resource_id, str(dict(c.before)), str(dict(c.after)), status]
        parts.append(_row(cells, o.status if o else ""))
    parts.append("</table>")
    if plan.replan is not None:
        left = len(plan.replan.changes)
        parts.append(f"<p>Plan after apply: {'nothing left to fix' if not left else f'{left} changes left'}.</p>")
    parts.append("</body></html>\n")
    return "".join(parts)
