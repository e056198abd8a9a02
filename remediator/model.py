"""The values that flow through a run: findings, changes, outcomes and the plan that holds them.

All are frozen: a playbook returns them, the engine passes them on, nothing mutates them.
Ids are deterministic (a hash of what makes a finding or change unique), so two plans of the
same estate name the same things the same way, and a plan file can be diffed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .version import VERSION

Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["applied", "noop", "stale", "skipped", "failed"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
STATUSES: tuple[Status, ...] = ("applied", "noop", "stale", "skipped", "failed")

FORMAT_VERSION = "1.0"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the input of every id and fingerprint."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def short_hash(*parts: Any) -> str:
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()[:16]


def roles_of(assignment_id: str) -> str:
    """The condition "the roles of this policy assignment's identity are granted" (Change.provides/requires)."""
    return f"roles-of:{assignment_id.lower()}"


def fingerprint(state: Mapping[str, Any]) -> str:
    """The fingerprint of the state a change was planned against (its ``before``).

    Resource ids compare case-insensitively in ARM, so string values that look like ids are
    lowered before hashing; a re-read that differs only in id casing is not a stale plan.
    """

    def norm(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("/"):
            return value.lower()
        if isinstance(value, Mapping):
            return {k: norm(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [norm(v) for v in value]
        return value

    return hashlib.sha256(canonical_json(norm(dict(state))).encode()).hexdigest()


@dataclass(frozen=True)
class Finding:
    """Something wrong with one resource, as the troubleshooting article describes it."""

    playbook: str
    resource_id: str
    severity: Severity
    title: str
    detail: str
    doc: str
    fixable: bool
    # What distinguishes two findings of one playbook on one resource (e.g. an assignment id).
    key: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    # What detect learned that plan needs, typed by the playbook; never serialized (a plan file's
    # findings are reports, and `apply` plans afresh before it writes).
    payload: Any = field(default=None, repr=False, compare=False)

    @property
    def id(self) -> str:
        return "f-" + short_hash(self.playbook, self.resource_id.lower(), self.key)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "playbook": self.playbook,
            "resource_id": self.resource_id,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "doc": self.doc,
            "fixable": self.fixable,
            "key": self.key,
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class Change:
    """One API call's worth of fix, with the state it was planned against.

    ``action`` names an executor in ``remediator.azure.actions``; ``before`` holds only the
    fields the action touches, as read at plan time; ``params`` carries what the executor
    needs beyond ``after`` (a request body, a parent scope). ``order`` sorts the apply:
    lower first (roles before remediations, create-new before delete-stale).
    """

    finding_id: str
    playbook: str
    resource_id: str
    action: str
    before: Mapping[str, Any]
    after: Mapping[str, Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    order: int = 50
    depends_on: tuple[str, ...] = ()
    fingerprint: str = ""
    # Conditions across playbooks, by name: a change that ``requires`` one is held back (skipped,
    # with the reason) when a change that ``provides`` it failed in the same apply. A remediation
    # task needs the roles its assignment's identity is being granted, which another playbook plans.
    provides: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self.before))

    @property
    def id(self) -> str:
        # Everything that decides what the change does is in its id, so an edit that keeps the id
        # is no edit at all (a plan file's ``after``, ``order`` or ``depends_on`` cannot be changed
        # behind it); ``before`` is covered by the fingerprint.
        return "c-" + short_hash(
            self.finding_id,
            self.action,
            self.resource_id.lower(),
            self.params,
            self.after,
            self.order,
            sorted(self.depends_on),
            sorted(self.requires),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "finding_id": self.finding_id,
            "playbook": self.playbook,
            "resource_id": self.resource_id,
            "action": self.action,
            "before": dict(self.before),
            "after": dict(self.after),
            "params": dict(self.params),
            "order": self.order,
            "depends_on": list(self.depends_on),
            "fingerprint": self.fingerprint,
            "provides": list(self.provides),
            "requires": list(self.requires),
        }


@dataclass(frozen=True)
class OutcomeError:
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Outcome:
    change_id: str
    status: Status
    error: OutcomeError | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "status": self.status,
            "error": self.error.to_json() if self.error else None,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Plan:
    generated_at: datetime
    dry_run: bool
    scope: Mapping[str, Any]
    findings: tuple[Finding, ...]
    changes: tuple[Change, ...]
    outcomes: tuple[Outcome, ...] = ()
    tool_version: str = VERSION
    format_version: str = FORMAT_VERSION
    # Set by `run` after an apply: the findings and changes of the plan made against the result.
    replan: Plan | None = None
    # What the plan was made against (tenant, endpoint): `apply` refuses it anywhere else.
    target: Mapping[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return any(o.status == "failed" for o in self.outcomes)

    def summary(self) -> dict[str, Any]:
        by_playbook: dict[str, int] = {}
        for change in self.changes:
            by_playbook[change.playbook] = by_playbook.get(change.playbook, 0) + 1
        by_status: dict[str, int] = {}
        for outcome in self.outcomes:
            by_status[outcome.status] = by_status.get(outcome.status, 0) + 1
        findings_by_playbook: dict[str, int] = {}
        for finding in self.findings:
            findings_by_playbook[finding.playbook] = findings_by_playbook.get(finding.playbook, 0) + 1
        return {
            "findings": len(self.findings),
            "changes": len(self.changes),
            "by_playbook": dict(sorted(by_playbook.items())),
            "findings_by_playbook": dict(sorted(findings_by_playbook.items())),
            "outcomes": dict(sorted(by_status.items())),
        }


@dataclass(frozen=True)
class Scope:
    """Which part of the tenant a run covers: explicit subscriptions, a management group, or all."""

    subscriptions: tuple[str, ...] = ()
    management_group: str | None = None
    # ``--shard INDEX/COUNT`` (remediator.shards): this run covers the subscriptions whose stable
    # hash lands on INDEX; 0/1 is the whole scope.
    shard_index: int = 0
    shard_count: int = 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"subscriptions": list(self.subscriptions)}
        if self.management_group:
            out["management_group"] = self.management_group
        if self.shard_count > 1:
            out["shard"] = f"{self.shard_index}/{self.shard_count}"
        return out
