"""End-to-end harness for playbook tests: the real engine and Azure layer against a served emulator.

    result = run_through_emulator(estate, playbooks=["arc-compute-provider"])
    assert result.first.changes            # what the dry run found
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()      # apply, then plan again: no changes

For step-by-step tests (plan, look at the emulator, apply, look again) use `harness(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remediator import Plan, Scope
from remediator.azure import ApplySettings, AzureBackend
from remediator.emulator import Emulator
from remediator.engine import Engine, Guardrails, PlanResult, PlaybookRun
from remediator.playbook import load_playbooks

# The emulator advances per poll, so tests poll fast and still see every state.
FAST = ApplySettings(
    provider_registration_timeout=30,
    provider_poll_interval=0.01,
    operation_timeout=30,
    lro_poll_interval=0.01,
    remediation_timeout=30,
    remediation_poll_interval=0.01,
    principal_propagation_timeout=5,
    role_propagation_seconds=0,
    role_propagation_poll_interval=0.01,
    principal_poll_interval=0.01,
    conflict_timeout=5,
    conflict_poll_interval=0.01,
    http_retry_total=3,
    http_retry_backoff_factor=0.01,
)


@dataclass
class Harness:
    emulator: Emulator
    engine: Engine
    scope: Scope
    now: datetime | None

    def plan(self) -> PlanResult:
        return self.engine.plan(self.scope, self.now)

    def apply(self, plan: Plan) -> Plan:
        return self.engine.apply(plan)


@contextmanager
def harness(
    estate: Mapping[str, Any] | str,
    playbooks: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    fix: Mapping[str, bool] | None = None,
    now: datetime | None = None,
    scope: Scope | None = None,
    guardrails: Guardrails | None = None,
    settings: ApplySettings = FAST,
) -> Iterator[Harness]:
    registry = load_playbooks()
    runs = [
        PlaybookRun(pb, options=(options or {}).get(pb.id, {}), fix_enabled=(fix or {}).get(pb.id))
        for pb in registry.select(playbooks)
    ]
    emulator = Emulator.load(dict(estate) if isinstance(estate, Mapping) else estate)
    with emulator.serve(port=0) as endpoint:
        backend = AzureBackend.for_endpoint(endpoint, settings)
        try:
            yield Harness(emulator, Engine(backend, runs, guardrails), scope or Scope(), now or _estate_now(estate))
        finally:
            backend.close()


@dataclass(frozen=True)
class Result:
    first: Plan
    applied: Plan
    again: Plan
    errors: tuple[str, ...]
    emulator: Emulator


def run_through_emulator(
    estate: Mapping[str, Any] | str,
    playbooks: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    fix: Mapping[str, bool] | None = None,
    now: datetime | None = None,
    scope: Scope | None = None,
) -> Result:
    """detect -> plan -> apply -> plan again, in one emulator."""
    with harness(estate, playbooks, options, fix, now, scope) as h:
        first = h.plan()
        applied = h.apply(first.plan)
        again = h.plan()
    return Result(first.plan, applied, again.plan, first.errors + again.errors, h.emulator)


def statuses(plan: Plan) -> set[str]:
    return {o.status for o in plan.outcomes}


def _estate_now(estate: Mapping[str, Any] | str) -> datetime | None:
    if isinstance(estate, Mapping) and isinstance(estate.get("now"), str):
        return datetime.fromisoformat(estate["now"].replace("Z", "+00:00"))
    return None
