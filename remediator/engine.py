"""detect -> plan -> apply -> verify, with the guardrails; knows nothing about any single failure.

The engine talks to the tenant only through a `Backend` (``remediator.azure.AzureBackend`` in
production, the same class pointed at the emulator in tests), and to playbooks only through the
`Playbook` contract. A playbook that raises is recorded as an error and the others go on; a change
whose execution raises becomes a ``failed`` outcome and the others go on.
"""

from __future__ import annotations

import fnmatch
import logging
import time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from itertools import groupby
from typing import Any

from . import progress
from .engine_backend import Backend
from .errors import ArmOperationError
from .estate import Estate, parent_id
from .model import Change, Finding, Outcome, OutcomeError, Plan, Scope, fingerprint
from .playbook import Context, Needs, Playbook
from .runcontrol import Interrupted, RunControl

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlaybookRun:
    """A playbook as this run uses it: its options and whether its fix is enabled."""

    playbook: Playbook
    options: Mapping[str, Any] = field(default_factory=dict)
    fix_enabled: bool | None = None  # None: the playbook's own default

    @property
    def fixing(self) -> bool:
        return self.playbook.fix_default if self.fix_enabled is None else self.fix_enabled


@dataclass(frozen=True)
class Guardrails:
    max_changes: int = 1000
    # fnmatch patterns over lowercased resource ids; findings and changes on them are dropped.
    exclude: tuple[str, ...] = ()
    # Tag name/value pairs: a resource carrying one is left alone.
    exclude_tags: Mapping[str, str] = field(default_factory=lambda: {"aum-remediator": "ignore"})
    concurrency: int = 8


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    estate: Estate
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Seconds each playbook spent detecting and planning (summed over a run's rounds), for reports.
    seconds: Mapping[str, float] = field(default_factory=dict)
    # Set when changes were applied but the plan made afterwards could not be read: the outcomes
    # stand, what is left to fix is unknown (exit 4, DESIGN.md 3.1).
    unverified: str = ""


class Engine:
    def __init__(
        self,
        backend: Backend,
        runs: Sequence[PlaybookRun],
        guardrails: Guardrails | None = None,
        control: RunControl | None = None,
    ):
        self.backend = backend
        self.runs = tuple(sorted(runs, key=lambda r: (r.playbook.phase, r.playbook.id)))
        self.guardrails = guardrails or Guardrails()
        self.control = control or RunControl()

    def needs(self) -> Needs:
        total = Needs()
        for run in self.runs:
            total = total | run.playbook.needs
        return total

    # -- plan -------------------------------------------------------------------------------
    def plan(self, scope: Scope, now: datetime | None = None, dry_run: bool = True) -> PlanResult:
        started = time.monotonic()
        estate = self.backend.read_estate(scope, self.needs(), now)
        log.info(
            "inventory: %d subscriptions, %d resources, %d policy states in %.1fs",
            len(estate.subscriptions),
            len(estate.resources),
            len(estate.policy_states),
            time.monotonic() - started,
        )
        findings: list[Finding] = []
        changes: list[Change] = []
        errors: list[str] = []
        notes: list[str] = []
        memo: dict[Hashable, Any] = {}  # one per estate, shared by every playbook's context
        seconds: dict[str, float] = {}
        for run in self.runs:
            playbook_started = time.monotonic()
            ctx = Context(
                estate=estate,
                options=run.options,
                fix_enabled=run.fixing,
                excluded=partial(self._excluded, estate),
                scope=scope,
                memo_store=memo,
            )
            try:
                found = [f for f in run.playbook.detect(ctx) if not self._excluded(estate, f.resource_id)]
            except Exception as exc:  # one broken playbook must not stop the others
                # The error is in the report; the traceback only with -vv (never at default verbosity).
                log.debug("playbook %s failed to detect", run.playbook.id, exc_info=True)
                errors.append(f"playbook {run.playbook.id}: detect failed: {type(exc).__name__}: {exc}")
                continue
            for finding in found:
                if finding.fixable and not run.fixing:
                    finding = replace(
                        finding,
                        detail=f"{finding.detail} The fix is opt-in: set playbooks.{run.playbook.id}.fix: "
                        "true in the config to enable it.",
                    )
                findings.append(finding)
                if not (finding.fixable and run.fixing):
                    continue
                try:
                    planned = [c for c in run.playbook.plan(ctx, finding)]
                except Exception as exc:  # recorded, the other findings go on
                    log.debug("playbook %s failed to plan %s", run.playbook.id, finding.id, exc_info=True)
                    errors.append(f"playbook {run.playbook.id}: plan failed for {finding.resource_id}: {exc}")
                    continue
                kept = _without_excluded(planned, lambda c: self._excluded(estate, c.resource_id))
                if len(kept) < len(planned):
                    notes.append(
                        f"{run.playbook.id}: {len(planned) - len(kept)} changes for {finding.resource_id} left out: "
                        "they act on an excluded resource or depend on a change that does"
                    )
                changes.extend(kept)
            seconds[run.playbook.id] = time.monotonic() - playbook_started
            log.info(
                "%s: %d findings, %d changes so far",
                run.playbook.id,
                len(found),
                len(changes),
                extra={"playbook": run.playbook.id, "findings": len(found)},
            )
        changes = _dedupe(changes)
        if len(changes) > self.guardrails.max_changes:
            kept = _trim(changes, self.guardrails.max_changes)
            notes.append(
                f"plan trimmed to max_changes={self.guardrails.max_changes}: "
                f"{len(changes) - len(kept)} more changes wait for the next run"
            )
            changes = kept
        plan = Plan(
            generated_at=datetime.now(UTC).replace(microsecond=0),
            dry_run=dry_run,
            scope=scope.to_json(),
            findings=tuple(findings),
            changes=tuple(_ordered(changes)),
        )
        return PlanResult(plan=plan, estate=estate, errors=tuple(errors), notes=tuple(notes), seconds=seconds)

    def _excluded(self, estate: Estate, resource_id: str) -> bool:
        """Is the resource, or anything it sits under, excluded by pattern or tag?

        Ancestors count: a change often targets a child of the resource the user excluded (a
        configuration assignment created on an ignored VM), and a pattern or tag on a resource
        group covers what is in it.
        """
        patterns = [p.lower() for p in self.guardrails.exclude]
        wanted = {k.lower(): v.lower() for k, v in self.guardrails.exclude_tags.items()}
        for rid in _lineage(resource_id):
            if any(fnmatch.fnmatchcase(rid, pattern) for pattern in patterns):
                return True
            resource = estate.get(rid)
            if resource is not None and wanted:
                tags = {str(k).lower(): str(v).lower() for k, v in resource.tags.items()}
                if any(tags.get(k) == v for k, v in wanted.items()):
                    return True
        return False

    # -- run: plan, apply, plan again ---------------------------------------------------------
    def run(self, scope: Scope, now: datetime | None = None, rounds: int = 3) -> PlanResult:
        """Plan and apply until the plan after an apply is empty, for at most ``rounds`` rounds.

        One fix can reveal the next (a remediation gives a restored VM the osProfile that
        schedule-prerequisites then needs to set): a scheduled run should converge, not report
        its own work as pending. A change already tried in this run (failed, stale) is never tried
        again, so the loop ends when a round brings nothing new; all rounds stay within
        max_changes together. The returned plan holds every round's changes and outcomes, and
        ``replan`` is the plan made after the last apply.
        """
        current = self.plan(scope, now, dry_run=False)
        seconds = dict(current.seconds)
        findings = {f.id: f for f in current.plan.findings}
        changes: list[Change] = []
        outcomes: list[Outcome] = []
        errors, notes = list(current.errors), list(current.notes)
        tried: set[str] = set()
        unverified = ""
        for round_no in range(1, max(1, rounds) + 1):
            budget = self.guardrails.max_changes - len(changes)
            pending = [c for c in current.plan.changes if c.id not in tried][: max(0, budget)]
            if not pending:
                break
            if round_no > 1:
                notes.append(f"round {round_no}: {len(pending)} changes the previous round's fixes revealed")
            applied = self.apply(replace(current.plan, changes=tuple(pending)))
            tried.update(c.id for c in pending)
            changes += pending
            outcomes += applied.outcomes
            if self.control.stopping:
                unverified = "the run was interrupted; the plan after the apply was not made"
                break
            try:
                current = self.plan(scope, now, dry_run=True)
            except Exception as exc:  # the writes happened: report them, and say the check failed
                log.debug("plan after apply failed", exc_info=True)
                unverified = f"the plan after the apply could not be made: {exc}"
                break
            for pid, spent in current.seconds.items():
                seconds[pid] = seconds.get(pid, 0.0) + spent
            errors += [e for e in current.errors if e not in errors]
            for finding in current.plan.findings:
                findings.setdefault(finding.id, finding)
        # Resource Graph lags ARM by seconds to minutes: a change applied (or found already done)
        # in this run can show up again in the plan made right after. It is done, not pending.
        done = {o.change_id for o in outcomes if o.status in _DONE}
        lagging = [c for c in current.plan.changes if c.id in done]
        if lagging:
            notes.append(
                f"{len(lagging)} changes applied in this run still show in Resource Graph, which lags "
                "ARM; they are not counted as pending"
            )
        replan = (
            None
            if unverified
            else replace(current.plan, changes=tuple(c for c in current.plan.changes if c.id not in done))
        )
        plan = Plan(
            generated_at=current.plan.generated_at,
            dry_run=False,
            scope=scope.to_json(),
            findings=tuple(findings.values()),
            changes=tuple(changes),
            outcomes=tuple(outcomes),
            replan=replan,
        )
        return PlanResult(
            plan=plan,
            estate=current.estate,
            errors=tuple(errors),
            notes=tuple(notes),
            unverified=unverified,
            seconds=seconds,
        )

    # -- apply ------------------------------------------------------------------------------
    def apply(self, plan: Plan) -> Plan:
        """Execute the plan's changes in order; changes of one ``order`` run concurrently."""
        outcomes: dict[str, Outcome] = {}
        failed: dict[str, str] = {}  # condition -> the failed change that was to provide it
        ordered = _ordered(plan.changes)
        progress.report("apply", 0, len(ordered), "changes")
        with ThreadPoolExecutor(max_workers=max(1, self.guardrails.concurrency)) as pool:
            for _, group in groupby(ordered, key=lambda c: c.order):
                batch = list(group)
                ready: list[Change] = []
                for change in batch:
                    blocked = [d for d in change.depends_on if outcomes.get(d, _MISSING).status not in _DONE]
                    held = sorted({failed[k] for k in change.requires if k in failed})
                    if held and not blocked:
                        outcomes[change.id] = Outcome(
                            change.id,
                            "skipped",
                            detail=f"held back: {', '.join(held)} failed, and this change needs it "
                            f"({', '.join(k for k in change.requires if k in failed)})",
                        )
                    elif blocked:
                        outcomes[change.id] = Outcome(
                            change.id,
                            "skipped",
                            detail=f"depends on {', '.join(blocked)}, which did not succeed",
                        )
                    else:
                        ready.append(change)
                for change, outcome in zip(ready, pool.map(self._apply_one, ready), strict=True):
                    outcomes[change.id] = outcome
                    if outcome.status == "failed":
                        failed.update(dict.fromkeys(change.provides, change.id))
                    log.info(
                        "%s %s: %s%s",
                        change.action,
                        change.resource_id,
                        outcome.status,
                        f" ({outcome.error.code}: {outcome.error.message})" if outcome.error else "",
                        extra={"change_id": change.id, "status": outcome.status},
                    )
                    progress.report("apply", len(outcomes), len(ordered), "changes")
                applied = [c for c in ready if outcomes[c.id].status == "applied"]
                if applied:
                    try:
                        self.backend.settle(applied)
                    except Interrupted:  # the changes not yet started are skipped, as interrupted
                        log.debug("settling interrupted")
        return replace(plan, dry_run=False, outcomes=tuple(outcomes[c.id] for c in plan.changes if c.id in outcomes))

    def is_done(self, change: Change) -> bool:
        """Does the live state already hold ``change.after``? (False when it cannot be read.)"""
        try:
            return _same(self.backend.read_state(change), change.after)
        except Exception:  # unreadable is not done
            log.debug("reading %s failed", change.id, exc_info=True)
            return False

    def _apply_one(self, change: Change) -> Outcome:
        if self.control.stopping:
            return Outcome(change.id, "skipped", detail="not started: the run was interrupted")
        try:
            current = self.backend.read_state(change)
            if _same(current, change.after):
                return Outcome(change.id, "noop", detail="already in the planned state")
            if fingerprint(current) != change.fingerprint:
                return Outcome(
                    change.id,
                    "stale",
                    detail=f"changed since planned: now {dict(current)}, planned against "
                    f"{dict(change.before)}; plan again",
                )
            detail = self.backend.execute(change)
        except ArmOperationError as exc:
            return Outcome(change.id, "failed", OutcomeError(exc.code, exc.detail))
        except Exception as exc:  # an unexpected failure fails this change only
            log.debug("change %s failed", change.id, exc_info=True)
            return Outcome(change.id, "failed", OutcomeError(type(exc).__name__, str(exc)))
        return self._verify(change, detail)

    def _verify(self, change: Change, detail: str) -> Outcome:
        """Re-read what was just changed; a read that fails leaves the change applied, not verified."""
        try:
            after = self.backend.read_state(change)
            if not _same(after, change.after):
                return Outcome(
                    change.id,
                    "failed",
                    OutcomeError("VerificationFailed", f"expected {dict(change.after)}, found {dict(after)}"),
                )
            return Outcome(change.id, "applied", detail=detail)
        except Exception as exc:  # the write went through; only the check failed
            log.debug("verification read of %s failed", change.id, exc_info=True)
            return Outcome(
                change.id, "applied", OutcomeError(NOT_VERIFIED, f"the read afterwards failed: {exc}"), detail=detail
            )


NOT_VERIFIED = "NotVerified"
_MISSING = Outcome("", "skipped")
_DONE = ("applied", "noop")


def _without_excluded(planned: list[Change], excluded: Callable[[Change], bool]) -> list[Change]:
    """Drop excluded changes and, transitively, every change that depends on one (a delete-stale
    whose create-new was excluded must not run alone)."""
    dropped = {c.id for c in planned if excluded(c)}
    grew = True
    while grew:
        more = {c.id for c in planned if c.id not in dropped and dropped.intersection(c.depends_on)}
        grew = bool(more)
        dropped |= more
    return [c for c in planned if c.id not in dropped]


def _lineage(resource_id: str) -> list[str]:
    """The id and its ancestors up to the subscription, lowercased."""
    out: list[str] = []
    rid = resource_id.lower().rstrip("/")
    while rid.count("/") >= 2 and rid not in out:
        out.append(rid)
        rid = parent_id(rid)
    return out


def _same(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Does the live state already hold every field the change wants (ids compared case-insensitively)?"""
    return all(fingerprint({k: current.get(k)}) == fingerprint({k: v}) for k, v in wanted.items())


def _ordered(changes: Iterable[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (c.order, c.playbook, c.resource_id.lower(), c.id))


def _trim(changes: list[Change], limit: int) -> list[Change]:
    """Keep whole findings (every change a finding planned, and what those depend on) up to ``limit``.

    Cutting a finding in half could keep a delete and drop the create that replaces it; a finding
    that does not fit waits whole for the next run.
    """
    by_id = {c.id: c for c in changes}
    groups: dict[str, list[Change]] = {}
    for change in _ordered(changes):
        groups.setdefault(change.finding_id, []).append(change)
    kept: dict[str, Change] = {}
    for group in groups.values():
        closure: dict[str, Change] = {}
        pending = list(group)
        while pending:
            change = pending.pop()
            if change.id in closure or change.id in kept:
                continue
            closure[change.id] = change
            pending.extend(by_id[d] for d in change.depends_on if d in by_id)
        if len(kept) + len(closure) <= limit:
            kept.update(closure)
    return _ordered(kept.values())


def _dedupe(changes: Iterable[Change]) -> list[Change]:
    """Two findings can ask for the same change (one role for two VMs): keep the first, and
    point whatever depended on a dropped twin at the one that was kept."""
    seen: dict[tuple[str, str, str], Change] = {}
    alias: dict[str, str] = {}
    for change in changes:
        key = (change.action, change.resource_id.lower(), fingerprint(change.params))
        kept = seen.setdefault(key, change)
        if kept is not change:
            alias[change.id] = kept.id
            seen[key] = replace(kept, provides=tuple(dict.fromkeys((*kept.provides, *change.provides))))
    result = list(seen.values())
    # depends_on is part of a change's id: a change re-pointed at a kept twin gets a new id, and
    # what depended on it is re-pointed in turn (a chain is finite, so this ends).
    while alias:
        renamed: dict[str, str] = {}
        for i, change in enumerate(result):
            deps = tuple(dict.fromkeys(alias.get(d, d) for d in change.depends_on))
            if deps != change.depends_on:
                result[i] = replace(change, depends_on=deps)
                renamed[change.id] = result[i].id
        alias = renamed
    return result
