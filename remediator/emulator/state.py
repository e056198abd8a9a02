"""The emulator's whole mutable state: one object, one re-entrant lock.

Route handlers receive it as their first argument (see ``routing.py``). It holds the generic
resource store (``store``), the subscriptions and their resource-provider states, the policy
states, the built-in policy and role definitions (bundled in ``builtins/``), the knobs, the
per-poll countdowns and long-running operations, the request log, and the simulated clock with
its timed events (``clock.py``).

Management groups are ordinary resources in the store (type
``Microsoft.Management/managementGroups``, shaped as ARM returns them with ``$expand=children``);
:meth:`EmulatorState.management_group_subscriptions` resolves the hierarchy.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

from remediator.emulator.clock import Event, SimulatedClock, Timeline
from remediator.emulator.knobs import Knobs
from remediator.emulator.routing import Countdowns, Operation
from remediator.emulator.store import ResourceStore, split_id

MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"
REGISTERED = "Registered"


@dataclass
class LogEntry:
    """One served request, as tests and benchmarks read it.

    ``body`` is the parsed request body; ``response_body`` the JSON answer, parsed afresh on each
    read, when it was at most the ``log_response_body_bytes`` knob long (else None, and
    ``response_body_kept`` is False); ``response_bytes`` is the answer's length either way. The
    answer is held as the bytes sent (compact: a long run keeps thousands of them).
    A dropped connection is logged with status 0.
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    duration: float
    api_version: str | None
    body: Any
    route: str = ""
    principal: str = ""
    response_json: bytes | None = None
    response_bytes: int = 0
    response_body_kept: bool = True

    @property
    def response_body(self) -> Any:
        return json.loads(self.response_json) if self.response_json is not None else None


def _load_builtins(folder: str, resource_type: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    base = resources.files("remediator.emulator").joinpath("builtins", folder)
    for entry in sorted(base.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        definition = json.loads(entry.read_text(encoding="utf-8"))
        definition.setdefault("type", resource_type)
        out[str(definition["id"]).lower()] = definition
    return out


class EmulatorState:
    """Everything the emulator knows; guarded by ``lock`` (handlers already run under it)."""

    def __init__(self, tenant_id: str, *, now: datetime | None = None, knobs: Knobs | None = None) -> None:
        self.lock = threading.RLock()
        self.tenant_id = tenant_id
        self.knobs = knobs or Knobs()
        self.clock = SimulatedClock(now, running=self.knobs.clock_follows_real_time)
        self.timeline = Timeline()
        self._start = now
        self.store = ResourceStore()
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self._providers: dict[tuple[str, str], tuple[str, str]] = {}
        # Policy state records (DESIGN.md 3.3 shape). Whoever changes them calls
        # policy_states_changed() so Resource Graph's cached rows are rebuilt.
        self.policy_states: list[dict[str, Any]] = []
        self.policy_states_version = 0
        self.builtin_policy_definitions = _load_builtins(
            "policy-definitions", "Microsoft.Authorization/policyDefinitions"
        )
        self.builtin_role_definitions = _load_builtins("role-definitions", "Microsoft.Authorization/roleDefinitions")
        self.countdowns = Countdowns()
        self.operations: dict[str, Operation] = {}
        self.request_log: list[LogEntry] = []
        # Unexpected exceptions raised by handlers (each answered with a 500), for tests to check.
        self.handler_errors: list[str] = []
        # Per-type modules keep their own bookkeeping here under a key they own (e.g. "policy").
        self.extras: dict[str, Any] = {}

    # --- clock -----------------------------------------------------------------------------

    @property
    def now(self) -> datetime | None:
        """The estate's own ``now``: the instant the simulated clock started at (None: the wall clock)."""
        return self._start

    @now.setter
    def now(self, start: datetime | None) -> None:
        # Setting it restarts the simulated clock there (tests pin timestamps this way).
        self._start = start
        self.clock = SimulatedClock(start or datetime.now(UTC), running=self.knobs.clock_follows_real_time)

    @property
    def instant(self) -> bool:
        """``consistency: instant``: every delay is zero (tests that are not about time)."""
        return self.knobs.consistency == "instant"

    def current_time(self) -> datetime:
        """The simulated clock: the estate's ``now`` (or the load time) plus elapsed and advanced time."""
        return self.clock.now()

    def delay(self, seconds: float) -> timedelta:
        """One of Azure's delays (a knob), or none under ``consistency: instant``."""
        return timedelta(0) if self.instant else timedelta(seconds=seconds)

    def schedule(self, after: timedelta, event: Event) -> None:
        """Run ``event`` (under the lock) once the simulated clock is ``after`` past now."""
        with self.lock:
            if after <= timedelta(0):
                event()
            else:
                self.timeline.at(self.current_time() + after, event)

    def run_due(self) -> None:
        """Run the timed events whose instant has come (before each request, and on advance)."""
        with self.lock:
            self.timeline.run_due(self.current_time())

    def advance(self, by: timedelta | float) -> datetime:
        """Move the simulated clock forward (tests never sleep) and run what fell due."""
        with self.lock:
            now = self.clock.advance(by)
            self.timeline.run_due(now)
            return now

    def now_iso(self) -> str:
        return self.current_time().strftime("%Y-%m-%dT%H:%M:%S.%f0Z")

    def policy_states_changed(self) -> None:
        self.policy_states_version += 1

    # --- subscriptions and providers --------------------------------------------------------

    def add_subscription(self, subscription: dict[str, Any]) -> None:
        """Add an ARM subscription object; its ``providers`` map seeds the provider states."""
        body = {k: v for k, v in subscription.items() if k != "providers"}
        sub_id = str(body["subscriptionId"])
        body.setdefault("id", f"/subscriptions/{sub_id}")
        body.setdefault("displayName", sub_id)
        body.setdefault("state", "Enabled")
        body.setdefault("tenantId", self.tenant_id)
        self.subscriptions[sub_id.lower()] = body
        for namespace, registration in (subscription.get("providers") or {}).items():
            self.set_provider_state(sub_id, namespace, registration)

    def subscription(self, subscription_id: str) -> dict[str, Any] | None:
        return self.subscriptions.get(subscription_id.lower())

    def provider_state(self, subscription_id: str, namespace: str) -> str:
        """A namespace the estate does not list is Registered (DESIGN.md 3.3)."""
        entry = self._providers.get((subscription_id.lower(), namespace.lower()))
        return entry[1] if entry else REGISTERED

    def set_provider_state(self, subscription_id: str, namespace: str, registration: str) -> None:
        key = (subscription_id.lower(), namespace.lower())
        existing = self._providers.get(key)
        self._providers[key] = (existing[0] if existing else namespace, registration)

    def listed_providers(self, subscription_id: str) -> dict[str, str]:
        """Namespaces the estate or a register call named for this subscription -> state."""
        sub = subscription_id.lower()
        return {name: state for (s, _), (name, state) in self._providers.items() if s == sub}

    # --- management groups ------------------------------------------------------------------

    def management_group(self, name: str) -> dict[str, Any] | None:
        return self.store.get_live(f"/providers/{MANAGEMENT_GROUP_TYPE}/{name}")

    def management_group_subscriptions(self, name: str) -> list[str]:
        """Subscription ids under a management group, at any depth, in declaration order."""
        found: list[str] = []
        seen: set[str] = set()
        self._walk_group(name, found, seen)
        return found

    def _walk_group(self, name: str, found: list[str], seen: set[str]) -> None:
        if name.lower() in seen:
            return
        seen.add(name.lower())
        group = self.management_group(name)
        if group is None:
            return
        self._walk_children((group.get("properties") or {}).get("children") or [], found, seen)

    def _walk_children(self, children: list[dict[str, Any]], found: list[str], seen: set[str]) -> None:
        for child in children:
            child_id = str(child.get("id", ""))
            parts = split_id(child_id)
            if str(child.get("type", "")).lower().endswith("subscriptions") or (
                len(parts) == 2 and parts[0].lower() == "subscriptions"
            ):
                sub_id = parts[-1] if parts else str(child.get("name", ""))
                if sub_id.lower() not in {f.lower() for f in found}:
                    found.append(sub_id)
            else:
                self._walk_group(parts[-1] if parts else str(child.get("name", "")), found, seen)
                self._walk_children(child.get("children") or [], found, seen)

    def management_group_tree(self, name: str) -> list[str]:
        """A management group's name and those of all groups below it."""
        found: list[str] = []
        seen: set[str] = set()
        self._walk_group(name, found, seen)
        return [group for group in self._group_names() if group.lower() in seen]

    def _group_names(self) -> list[str]:
        return [str(group.get("name", "")) for group in self.store.of_type(MANAGEMENT_GROUP_TYPE)]

    def management_group_ancestors(self, subscription_id: str) -> list[str]:
        """Names of the management groups that contain a subscription (nearest first)."""
        groups = self.store.of_type(MANAGEMENT_GROUP_TYPE)
        containing = [
            g
            for g in groups
            if subscription_id.lower() in {s.lower() for s in self.management_group_subscriptions(str(g["name"]))}
        ]
        containing.sort(key=lambda g: len(self.management_group_subscriptions(str(g["name"]))))
        return [str(g["name"]) for g in containing]

    # --- definitions --------------------------------------------------------------------------

    def policy_definition(self, definition_id: str) -> dict[str, Any] | None:
        """A built-in (bundled) or custom (stored) policy definition by id."""
        return self.builtin_policy_definitions.get(definition_id.lower()) or self.store.get_live(definition_id)

    def role_definition(self, definition_id: str) -> dict[str, Any] | None:
        """A role definition by id; built-ins are found whatever scope prefixes their id."""
        direct = self.store.get_live(definition_id)
        if direct is not None:
            return direct
        guid = split_id(definition_id)[-1].lower() if split_id(definition_id) else ""
        return self.builtin_role_definitions.get(f"/providers/microsoft.authorization/roledefinitions/{guid}")
