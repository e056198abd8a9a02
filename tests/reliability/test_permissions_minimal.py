"""Every action of the role `remediator permissions` prints, dropped in turn: the demo job must fail
with AuthorizationFailed naming it. An action whose removal changes nothing is reported, not hidden."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_safety_rbac import demo, permissions_role, run_demo


def test_every_action_of_the_printed_role_is_needed_by_the_demo_job(tmp_path: Path) -> None:
    role = permissions_role([s["subscriptionId"] for s in demo()["subscriptions"]])
    unneeded: list[str] = []
    for dropped in role["Actions"]:
        code, report, stderr = run_demo(tmp_path, [a for a in role["Actions"] if a != dropped])
        seen = (stderr + json.dumps(report)).lower()
        if code == 0 or "authorizationfailed" not in seen or dropped.lower() not in seen:
            unneeded.append(dropped)
    print(f"\nactions: {len(role['Actions'])}, needed by the demo job: {len(role['Actions']) - len(unneeded)}")
    print("not exercised by the demo job:", json.dumps(unneeded, indent=1))
    assert not unneeded
