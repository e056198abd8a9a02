"""Every action of the role `remediator permissions` prints, dropped in turn, against the demo job.

An action is needed when the job without it either fails with AuthorizationFailed naming it (a write,
a direct read) or sees less than with the full role (Resource Graph silently leaves out rows the
caller may not read). The actions the demo job never exercises are printed: the figures go to
RELIABILITY.md, and the test fails only when the job can do without an action it does exercise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.test_safety_rbac import demo, permissions_role, run_demo


def _job(report: dict[str, Any]) -> tuple[set[str], set[str]]:
    return {f["id"] for f in report.get("findings", [])}, {c["id"] for c in report.get("changes", [])}


def test_each_action_the_demo_job_exercises_is_needed(tmp_path: Path) -> None:
    role = permissions_role([s["subscriptionId"] for s in demo()["subscriptions"]])
    code, full, _ = run_demo(tmp_path, role["Actions"])
    assert code == 0
    refused, blind, unused = [], [], []
    for dropped in role["Actions"]:
        code, report, stderr = run_demo(tmp_path, [a for a in role["Actions"] if a != dropped])
        seen = (stderr + json.dumps(report)).lower()
        if code != 0 and "authorizationfailed" in seen and dropped.lower() in seen:
            refused.append(dropped)
        elif _job(report) != _job(full):
            blind.append(dropped)
        else:
            unused.append(dropped)
    print(f"\nactions {len(role['Actions'])}: refused without it {len(refused)}, sees less without it {len(blind)}")
    print("not exercised by the demo job:", json.dumps(unused, indent=1))
    assert refused and blind
