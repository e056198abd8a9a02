"""The plan JSON of DESIGN.md 3.2, as a report; each finding also carries its Learn link."""

from __future__ import annotations

import json

from ..model import Plan
from ..planfile import plan_to_json
from .doclinks import doc_url
from .view import ReportContext


def render_json(
    plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = (), ctx: ReportContext | None = None
) -> str:
    ctx = ctx or ReportContext()
    doc = plan_to_json(plan, errors, notes)
    for finding in doc["findings"]:
        finding["doc_url"] = doc_url(finding["doc"], ctx.locale)
    return json.dumps(doc, indent=2) + "\n"
