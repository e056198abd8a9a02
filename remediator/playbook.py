"""The playbook contract and the registry.

A playbook is frozen data plus two pure functions: ``detect`` reads the `Estate` and returns
findings; ``plan`` turns one fixable finding into changes. Neither does I/O: the engine reads
the estate before and executes the changes after, through ``remediator.azure``.

Playbooks are discovered through the ``remediator.playbooks`` entry point group, so the engine
never imports them and a third party can ship its own.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Hashable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar

from .errors import UsageError
from .estate import EMPTY, Estate
from .model import Change, Finding, Scope, Severity


@dataclass(frozen=True)
class Needs:
    """What the inventory must read for a playbook: resource types, provider states, policy states."""

    resource_types: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    policy_states: bool = False
    # Built-in policy/role definition ids the playbook wants resolved into Estate.definitions.
    definitions: frozenset[str] = frozenset()

    def __or__(self, other: Needs) -> Needs:
        return Needs(
            resource_types=self.resource_types | other.resource_types,
            providers=self.providers | other.providers,
            policy_states=self.policy_states or other.policy_states,
            definitions=self.definitions | other.definitions,
        )


T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """What a playbook's functions get: the estate, its own options, and whether fixing is on."""

    estate: Estate
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    fix_enabled: bool = True
    # The run's guardrails (exclusion patterns and tags): a change that acts on several resources
    # at once (a remediation task's resourceIds) must leave out the ones this says are excluded.
    excluded: Callable[[str], bool] = field(default=lambda resource_id: False)
    # What the run covers: a fix must not write above it unless the config says so.
    scope: Scope = field(default_factory=Scope)

    # The engine's per-estate memo (kopf's ``memo``): every playbook's context over one estate shares
    # it, and it dies with the estate, so playbooks keep no state of their own between runs.
    memo_store: MutableMapping[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    def option(self, name: str, default: Any) -> Any:
        return self.options.get(name, default)

    def memo(self, key: Hashable, factory: Callable[[], T]) -> T:
        """What ``factory()`` builds from this estate, built once per estate and shared.

        ``key`` names the thing and everything it depends on besides the estate (e.g. options):

        >>> from datetime import UTC, datetime
        >>> ctx = Context(estate=Estate(now=datetime(2026, 11, 26, tzinfo=UTC)))
        >>> calls = []
        >>> ctx.memo(("index", 1), lambda: calls.append(1) or len(calls))
        1
        >>> ctx.memo(("index", 1), lambda: calls.append(1) or len(calls))
        1
        """
        if key not in self.memo_store:
            self.memo_store[key] = factory()
        value: T = self.memo_store[key]
        return value


DetectFn = Callable[[Context], Iterable[Finding]]
PlanFn = Callable[[Context, Finding], Iterable[Change]]


def _no_changes(ctx: Context, finding: Finding) -> Iterable[Change]:
    return ()


def _finding_resource(finding: Finding) -> str:
    return finding.resource_id


@dataclass(frozen=True)
class Playbook:
    id: str
    title: str
    doc: str
    severity: Severity
    detect: DetectFn
    plan: PlanFn = _no_changes
    needs: Needs = Needs()
    # ARM actions the fix needs (reads are covered by Reader); `remediator permissions` unions them.
    permissions: tuple[str, ...] = ()
    read_permissions: tuple[str, ...] = ()
    # True: fixed unless the config turns it off. False: opt-in, the finding says how to enable it.
    fix_default: bool = True
    # Lower phases apply first across playbooks (roles before remediations).
    phase: int = 50
    # The id whose subscription owns a finding in a sharded run (remediator.shards): its resource,
    # unless the evidence that produced it lives elsewhere (a machine moved across subscriptions).
    owner: Callable[[Finding], str] = _finding_resource
    options_schema: Mapping[str, Any] = field(default_factory=dict)

    @property
    def report_only(self) -> bool:
        """A playbook with no plan function only reports; it never changes anything."""
        return self.plan is _no_changes


class Registry:
    def __init__(self) -> None:
        self._playbooks: dict[str, Playbook] = {}

    def register(self, playbook: Playbook) -> Playbook:
        existing = self._playbooks.get(playbook.id)
        if existing is not None and existing is not playbook:
            raise ValueError(f"playbook id {playbook.id!r} registered twice")
        self._playbooks[playbook.id] = playbook
        return playbook

    def get(self, playbook_id: str) -> Playbook:
        try:
            return self._playbooks[playbook_id]
        except KeyError:
            known = ", ".join(sorted(self._playbooks)) or "none"
            raise UsageError(f"unknown playbook {playbook_id!r} (known: {known})") from None

    def all(self) -> tuple[Playbook, ...]:
        return tuple(sorted(self._playbooks.values(), key=lambda p: (p.phase, p.id)))

    def select(self, ids: Iterable[str] = ()) -> tuple[Playbook, ...]:
        wanted = list(ids)
        if not wanted:
            return self.all()
        return tuple(sorted((self.get(i) for i in dict.fromkeys(wanted)), key=lambda p: (p.phase, p.id)))


registry = Registry()
register = registry.register


def load_playbooks() -> Registry:
    """Import every module named by the ``remediator.playbooks`` entry points (idempotent)."""
    for ep in entry_points(group="remediator.playbooks"):
        importlib.import_module(ep.value)
    return registry
