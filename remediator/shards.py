"""Split a tenant across replicas with no coordinator: ``--shard INDEX/COUNT``.

A Kubernetes Indexed Job (or Container Apps Job replicas) runs COUNT copies of the bot, each with
its own INDEX. Every copy resolves the same scope, keeps the subscriptions whose stable hash
lands on its index, and plans only the findings it owns:

- a finding on a resource inside a subscription belongs to that subscription's shard;
- a finding whose evidence sits elsewhere than its resource says so through its playbook's
  ``owner`` (a machine moved across subscriptions is repaired by the shard that holds the stale
  assignment: only that shard sees the evidence, and its create-then-delete pair stays in one
  process, so the new assignment always exists before the old one goes);
- tenant-wide work, on a resource above every subscription (a role grant at a management group,
  an assignment made there), belongs to shard 0: exactly one replica, and the same one on every
  run, so two replicas never write the same thing and a rerun does not move the work around.
  Shard 0 reads every policy assignment made at a management group in scope (the inventory), so
  it sees that work even when none of the assignment's machines are in its subscriptions; the
  remediation tasks for those machines stay with the machines' shards.

The hash is SHA-256 of the lowercased subscription id (never Python's ``hash()``, which is salted
per process), so every replica and every run agrees without talking to the others.
``remediator report merge`` joins the shards' plans into one report.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from .errors import UsageError
from .model import Change, Finding, Outcome, Plan
from .playbook import Context, Playbook

ENV_SHARD = "REMEDIATOR_SHARD"
# Kubernetes sizes an Indexed Job by completions; beyond this a typo is likelier than a cluster.
MAX_SHARDS = 1000


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns_subscription(self, subscription_id: str) -> bool:
        return shard_of(subscription_id, self.count) == self.index

    def owns(self, resource_id: str) -> bool:
        """Does this shard own work on ``resource_id`` (a subscription's, or shard 0 above them)?"""
        subscription = subscription_of(resource_id)
        return self.index == 0 if subscription is None else self.owns_subscription(subscription)


def shard_of(subscription_id: str, count: int) -> int:
    """The shard (0..count-1) a subscription belongs to, the same in every process and run.

    >>> sub = "0000000a-0000-0000-0000-000000000001"
    >>> shard_of(sub, 4) == shard_of(sub.upper(), 4)
    True
    """
    digest = hashlib.sha256(subscription_id.strip().lower().encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def subscription_of(resource_id: str) -> str | None:
    parts = [p for p in resource_id.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1].lower()
    return None


def parse_shard(text: str, source: str = "--shard") -> Shard:
    """``INDEX/COUNT`` with 0 <= INDEX < COUNT; anything else is a one-line UsageError."""
    index_text, sep, count_text = text.strip().partition("/")
    if not sep or not index_text.isdigit() or not count_text.isdigit():
        raise UsageError(f"invalid {source} {text!r}: expected INDEX/COUNT, e.g. 0/4")
    index, count = int(index_text), int(count_text)
    if not 1 <= count <= MAX_SHARDS or index >= count:
        raise UsageError(f"invalid {source} {text!r}: need 0 <= INDEX < COUNT <= {MAX_SHARDS}")
    return Shard(index, count)


def shard_from(flag: str | None) -> Shard | None:
    """The flag, else ``REMEDIATOR_SHARD``, else None (unsharded). A Kubernetes Indexed Job sets
    ``JOB_COMPLETION_INDEX``; the manifest turns it into REMEDIATOR_SHARD."""
    if flag:
        return parse_shard(flag)
    env = os.environ.get(ENV_SHARD, "").strip()
    return parse_shard(env, ENV_SHARD) if env else None


def owned(playbook: Playbook, shard: Shard) -> Playbook:
    """``playbook`` with its findings narrowed to those ``shard`` owns (their changes follow them)."""

    def detect(ctx: Context) -> Iterable[Finding]:
        return [f for f in playbook.detect(ctx) if shard.owns(playbook.owner(f))]

    return replace(playbook, detect=detect)


def _check_shards_complete(shards: Sequence[str]) -> None:
    """Sharded plans merge only as a whole set: every index of one count, each once.

    A replica that failed to upload its plan must not yield a report that looks whole.

    >>> _check_shards_complete(["0/2", "1/2"])
    >>> _check_shards_complete(["0/2", "0/2"])
    Traceback (most recent call last):
    remediator.errors.UsageError: report merge needs each of shards 0/2..1/2 once: shard 0/2 twice; 1/2 missing
    """
    if not any(shards):
        return
    if not all(shards):
        raise UsageError("report merge cannot join a sharded plan with an unsharded one")
    counts = {shard.split("/", 1)[1] for shard in shards}
    if len(counts) != 1:
        raise UsageError(f"report merge needs shards of one count, got {', '.join(sorted(set(shards)))}")
    count = int(counts.pop())
    expected = [f"{index}/{count}" for index in range(count)]
    twice = sorted({s for s in shards if shards.count(s) > 1})
    missing = [s for s in expected if s not in shards]
    if twice or missing:
        problems = [f"shard {s} twice" for s in twice] + ([f"{', '.join(missing)} missing"] if missing else [])
        raise UsageError(
            f"report merge needs each of shards 0/{count}..{count - 1}/{count} once: {'; '.join(problems)}"
        )


def merge_plans(plans: Sequence[Plan], sources: Sequence[str]) -> Plan:
    """The shards' plans as one: findings and changes joined, each once, in plan order.

    Plans of different tool major versions or of a mix of dry runs and applies are refused: their
    union would describe no single run.
    """
    if not plans:
        raise UsageError("report merge needs at least one plan")
    first = plans[0]
    for plan, source in zip(plans[1:], sources[1:], strict=True):
        if plan.dry_run != first.dry_run:
            raise UsageError(f"cannot merge {source}: a dry run and an apply do not make one report")
        if dict(plan.target) != dict(first.target):
            raise UsageError(f"cannot merge {source}: it was made against another tenant or endpoint")
    _check_shards_complete([str(p.scope.get("shard") or "") for p in plans])
    seen_findings: dict[str, Finding] = {}
    changes: dict[str, Change] = {}
    outcomes: dict[str, Outcome] = {}
    subscriptions: dict[str, str] = {}
    for plan in plans:
        for finding in plan.findings:
            seen_findings.setdefault(finding.id, finding)
        for change in plan.changes:
            changes.setdefault(change.id, change)
        for outcome in plan.outcomes:
            outcomes.setdefault(outcome.change_id, outcome)
        for sub in plan.scope.get("subscriptions", ()):
            subscriptions.setdefault(str(sub).lower(), str(sub))
    scope = {k: v for k, v in first.scope.items() if k != "shard"}
    scope["subscriptions"] = sorted(subscriptions.values(), key=str.lower)
    scope["shards"] = [str(p.scope.get("shard", "")) for p in plans if p.scope.get("shard")]
    generated: datetime = max(p.generated_at for p in plans)
    return replace(
        first,
        generated_at=generated,
        scope=scope,
        findings=tuple(seen_findings.values()),
        changes=tuple(sorted(changes.values(), key=lambda c: (c.order, c.playbook, c.resource_id.lower(), c.id))),
        outcomes=tuple(outcomes.values()),
        replan=None,
    )


def messages_of(path: Path) -> tuple[list[str], list[str]]:
    """A plan file's ``errors`` and ``notes`` (a `Plan` does not hold them), each naming the file.

    A shard whose plan carries an error planned from an incomplete view; the merged report must
    say so rather than look complete. Call after `read_plan` has validated the file.
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    errors = [f"{path.name}: {e}" for e in doc.get("errors") or [] if isinstance(e, str)]
    notes = [f"{path.name}: {n}" for n in doc.get("notes") or [] if isinstance(n, str)]
    return errors, notes
