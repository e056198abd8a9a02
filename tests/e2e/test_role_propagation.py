"""Role propagation: a new role assignment authorizes only minutes after ARM accepts it.

The emulator delays a grant by ``rolePropagationSeconds`` of its clock (Azure: "up to 10
minutes"); remediation deployments that need it fail AuthorizationFailed until then. The bot
retries a task failing for a principal it granted a role to in this run, within
``apply.role_propagation_seconds`` of the grant, under the same task name; it never waits for a
role nobody granted. Tests move the emulator's clock instead of sleeping through the delay.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

from remediator.emulator import Emulator
from tests.data.policy import scenarios as sc
from tests.playbook_harness import FAST, harness, statuses

BOTH = ["policy-identity-roles", "policy-remediation"]
REMEDIATION_TYPE = "Microsoft.PolicyInsights/remediations"
DELAY = 600  # Azure's documented bound, the knob's default


def _delayed_landing_zone() -> dict[str, Any]:
    data = sc.landing_zone()
    data["emulator"] = {"rolePropagationSeconds": DELAY}
    return data


def _advance(emulator: Emulator, seconds: float) -> None:
    emulator.state.advance(timedelta(seconds=seconds))


def _failed_remediations(emulator: Emulator) -> list[str]:
    with emulator.state.lock:
        return [
            str(r["name"])
            for r in emulator.state.store.of_type(REMEDIATION_TYPE)
            if r["properties"].get("provisioningState") == "Failed"
        ]


def _remediation_puts(emulator: Emulator) -> list[str]:
    return [
        e.path.rsplit("/", 1)[-1]
        for e in list(emulator.state.request_log)
        if e.method == "PUT" and "/remediations/" in e.path
    ]


def test_a_fresh_grant_does_not_authorize_until_it_has_propagated() -> None:
    # No window: the bot does not wait, so the emulator's delay shows as the deployment's error.
    retry_at_once = {"policy-remediation": {"retry_failed_after_hours": 0}}
    with harness(_delayed_landing_zone(), BOTH, options=retry_at_once) as h:
        applied = h.apply(h.plan().plan)
        failed = [o for o in applied.outcomes if o.status == "failed"]
        assert failed and {o.error.code for o in failed if o.error} == {"AuthorizationFailed"}
        assert any(sc.P_OLD in (o.error.message if o.error else "") for o in failed)
        # Ten minutes later the same grants authorize: the task proposed again succeeds.
        _advance(h.emulator, DELAY)
        h.now = h.emulator.state.current_time()  # the bot's clock moves with the tenant's
        again = h.apply(h.plan().plan)
        assert statuses(again) == {"applied"}
        assert h.plan().plan.changes == ()


def test_a_task_failing_for_a_role_granted_in_this_run_is_retried_within_the_window() -> None:
    settings = replace(FAST, role_propagation_seconds=120, role_propagation_poll_interval=0.05)
    with harness(_delayed_landing_zone(), BOTH, settings=settings) as h:
        plan = h.plan().plan
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(h.apply(plan)))
        worker.start()
        deadline = time.monotonic() + 60
        while not _failed_remediations(h.emulator) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _failed_remediations(h.emulator), "the first attempt should fail before the grant propagates"
        _advance(h.emulator, DELAY)  # the grant propagates while the bot is waiting
        worker.join(timeout=60)
        [applied] = result
        assert statuses(applied) == {"applied"}
        tasks = [o for c, o in zip(applied.changes, applied.outcomes, strict=True) if c.action == "create-remediation"]
        assert tasks and all(": Succeeded," in o.detail for o in tasks)
        puts = _remediation_puts(h.emulator)
        # Retried under its own name: one task per piece of work, never a second name.
        assert len(set(puts)) == len(_tasks_planned(plan)) and len(puts) > len(set(puts))
        assert h.plan().plan.changes == ()


def _tasks_planned(plan: Any) -> list[str]:
    return [c.resource_id for c in plan.changes if c.action == "create-remediation"]


def test_a_task_failing_for_a_role_nobody_granted_fails_at_once() -> None:
    settings = replace(FAST, role_propagation_seconds=120, role_propagation_poll_interval=0.05)
    with harness(_delayed_landing_zone(), ["policy-remediation"], settings=settings) as h:
        applied = h.apply(h.plan().plan)
        assert "failed" in statuses(applied)
        puts = _remediation_puts(h.emulator)
        assert len(puts) == len(set(puts))  # no retry: this run granted no role
