"""Issue 9's "done when", for roles held at management groups and moved machines.

Against `remediator emulator serve --consistency azure` (another process): two `remediator run`s in
a row both exit 0, the second writes nothing (the emulator's request log), no role assignment exists
twice, a run scoped to subscriptions grants nothing an identity holds at the management group above
them, and a moved VM that has a second schedule is repaired.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from tests.data.maintenance.estates import SUB_A, SUB_B, vm
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc
from tests.e2e.test_maintenance_service_quirks import _moved_with_second_schedule
from tests.e2e.test_policy_convergence import ServedProcess, _bot, _writes

PLAYBOOKS = ["policy-identity-roles", "maintenance-moved-resource"]
ASSIGNMENTS = "/providers/microsoft.maintenance/configurationassignments/"


def _estate() -> dict[str, Any]:
    policy = sc.landing_zone()
    policy.pop("emulator")  # Azure's own delays
    moved = _moved_with_second_schedule()
    policy["subscriptions"] += moved["subscriptions"]
    policy["resources"] += moved["resources"]
    return policy


def test_two_runs_in_a_row_exit_0_the_second_writes_nothing_and_nothing_is_granted_twice(tmp_path: Path) -> None:
    served = ServedProcess(_estate(), tmp_path)
    try:
        config = tmp_path / "settings.yaml"
        config.write_text("apply:\n  poll_seconds: 0.1\n")
        scope = [a for sub in (b.S1, SUB_A, SUB_B) for a in ("--subscription", sub)]
        args = ["run", "--config", str(config), *scope, *(a for p in PLAYBOOKS for a in ("--playbook", p))]
        first = _bot([*args, "--format", "json"], served.env)
        served.mark("between-runs")
        second = _bot([*args, "--format", "json"], served.env)
    finally:
        log = served.stop()

    assert (first.returncode, second.returncode) == (0, 0), first.stderr[-2000:] + second.stderr[-2000:]
    doc = json.loads(first.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    grants = [c for c in doc["changes"] if c["action"] == "create-role-assignment"]
    assert grants and all(c["params"]["principal_id"] != sc.P_UAI for c in grants)  # it holds Contributor above
    assert json.loads(second.stdout)["changes"] == []
    cut = next(i for i, e in enumerate(log) if e["path"] == "/between-runs")
    assert _writes(log[:cut]) and _writes(log[cut + 1 :]) == []  # the second run writes nothing
    role_puts = Counter(
        e["path"].lower() for e in log if e["method"] == "PUT" and "/roleassignments/" in e["path"].lower()
    )
    assert role_puts and all(n == 1 for n in role_puts.values())  # no role assignment made twice
    # The moved VM, which has a second schedule, got its schedule back; the stale one is gone.
    moved = vm(SUB_B, "rg-new", "app1")["id"].lower()
    old = f"/subscriptions/{SUB_A}/resourcegroups/rg-old/providers/microsoft.compute/virtualmachines/app1".lower()
    writes = [(e["method"], e["path"].lower(), e["status"]) for e in log[:cut]]
    assert ("GET", f"{moved}{ASSIGNMENTS}nightly", 400) in writes  # Azure's answer for "none of that name"
    assert ("PUT", f"{moved}{ASSIGNMENTS}nightly", 200) in writes
    assert ("DELETE", f"{old}{ASSIGNMENTS}nightly", 200) in writes
