"""Requests under storms: a generated estate served with ARM's throttling on, the write buckets
small, and half of every write answered 429 without Retry-After. The run's default retry policy
(10 retries, backoff 0.8) must carry every change through, and the plan after it must be empty."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

from remediator.azure import ApplySettings, AzureBackend
from remediator.emulator import Emulator
from remediator.emulator.generate import generate_estate
from remediator.engine import Engine, PlaybookRun
from remediator.model import Scope
from remediator.playbook import load_playbooks

MACHINES = 500


def test_a_throttling_storm_at_scale_loses_nothing_and_converges() -> None:
    estate = generate_estate(machines=MACHINES, subscriptions=3, seed=7)
    storm = {"route": "/", "status": 429, "code": "TooManyRequests", "rate": 0.5, "retryAfter": -1}
    estate["emulator"] = {
        **(estate.get("emulator") or {}),
        "throttling": True,
        "writesBurst": 20,
        "writesPerSecond": 5.0,
        "seed": 13,
        "faults": [{**storm, "method": method} for method in ("PUT", "PATCH", "DELETE")]
        + [{**storm, "method": "POST", "route": "/register"}, {**storm, "method": "POST", "route": "/assessPatches"}],
    }
    emulator = Emulator.load(estate)
    now = datetime.fromisoformat(estate["now"].replace("Z", "+00:00")) if estate.get("now") else None
    settings = ApplySettings(
        provider_poll_interval=0.05,
        lro_poll_interval=0.05,
        remediation_poll_interval=0.05,
        conflict_poll_interval=0.05,
        principal_poll_interval=0.05,
        role_propagation_seconds=0,
    )
    runs = [PlaybookRun(pb) for pb in load_playbooks().all()]
    started = time.monotonic()
    with emulator.serve(port=0) as endpoint:
        backend = AzureBackend.for_endpoint(endpoint, settings)
        try:
            result = Engine(backend, runs).run(Scope(), now, rounds=3)
        finally:
            backend.close()
    elapsed = time.monotonic() - started
    left = len(result.plan.replan.changes) if result.plan.replan else "?"
    log = emulator.request_log
    statuses = Counter(o.status for o in result.plan.outcomes)
    writes = [
        e for e in log if e.method in ("PUT", "PATCH", "DELETE", "POST") and "resourcegraph" not in e.path.lower()
    ]
    print(
        f"\n{MACHINES} machines: {len(result.plan.changes)} changes, outcomes {dict(statuses)}, "
        f"{len(log)} requests, {sum(1 for e in log if e.status == 429)} answered 429, "
        f"{len(writes)} writes, {elapsed:.0f} s; left after: {left}"
    )
    assert result.errors == ()
    assert statuses.get("failed", 0) == 0, [o for o in result.plan.outcomes if o.status == "failed"][:3]
    assert result.plan.replan is not None and result.plan.replan.changes == ()
