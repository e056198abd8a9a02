"""The plan JSON of DESIGN.md 3.2, as a report."""

from __future__ import annotations

import json

from ..model import Plan
from ..planfile import plan_to_json


def render_json(plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> str:
    return json.dumps(plan_to_json(plan, errors, notes), indent=2) + "\n"
