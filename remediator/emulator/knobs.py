"""The emulator's knobs: how many polls asynchronous things take, paging, latency, throttling, faults.

Set from the estate's optional ``emulator`` section (keys below, camelCase) and from flags of
``remediator emulator serve``. Polls and paging default to what keeps tests fast and deterministic;
the consistency model's delays default to Azure's own figures (each with its source), in the
simulated clock (``clock.py``), which tests advance instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Fault:
    """Inject a failure on requests whose route name or path matches.

    ``route`` is a route name (``get_provider``) or a path substring (case-insensitive);
    ``method`` limits it to one HTTP method (empty: any); ``status`` is the HTTP status to answer
    (with ARM's error body and ``code``), or 0 with ``drop=True`` to close the connection with no
    answer; ``rate`` in [0, 1] is the fraction of matching requests that fail (chosen by a seeded
    random generator so runs repeat); ``count`` caps how many times it fires (0: unlimited);
    ``after_writes`` holds it back until the emulator has accepted that many writes (PUT, PATCH,
    DELETE, or a POST other than a Resource Graph query): "the read after an apply fails".
    ``retry_after`` is the ``Retry-After`` header's seconds; a 429 carries one by default (ARM's
    throttling answers always do, learn.microsoft.com/azure/azure-resource-manager/management/
    request-limits-and-throttling), -1 leaves it out.
    """

    route: str
    method: str = ""
    status: int = 500
    code: str = "InternalServerError"
    message: str = "Injected fault."
    rate: float = 1.0
    drop: bool = False
    count: int = 0
    after_writes: int = 0
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599 and not self.drop:
            raise ValueError(f"fault on {self.route!r}: status {self.status} is not 400-599")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault on {self.route!r}: rate {self.rate} is not between 0 and 1")
        if self.count < 0 or self.after_writes < 0:
            raise ValueError(f"fault on {self.route!r}: count and afterWrites must not be negative")

    def headers(self) -> dict[str, str]:
        seconds = self.retry_after if self.retry_after is not None else (1 if self.status == 429 else -1)
        return {"Retry-After": str(seconds)} if seconds >= 0 else {}


@dataclass(frozen=True)
class Knobs:
    """Every tunable of the emulator (see the module docstring)."""

    provider_registration_polls: int = 3
    lro_polls: int = 2
    # Observing polls each state of a remediation task lasts (Evaluating, Running, each batch).
    remediation_polls: int = 1
    page_size: int = 100
    retry_after_seconds: int = 0
    latency_ms: float = 0.0
    throttling: bool = False
    reads_burst: int = 250
    reads_per_second: float = 25.0
    writes_burst: int = 200
    writes_per_second: float = 10.0
    graph_quota: int = 15
    graph_quota_window_seconds: float = 5.0
    faults: tuple[Fault, ...] = field(default_factory=tuple)
    seed: int = 0
    # "azure": Azure's eventual consistency (policy evaluation, Resource Graph lag, role propagation,
    # the service's quirks), each delay a knob below with Azure's figure; "instant": every write is
    # seen at once, for tests that are not about time.
    consistency: str = "azure"
    # The simulated clock (clock.py) moves on with real time as well as by explicit advances; false
    # pauses it, so only advances move it (fully deterministic tests).
    clock_follows_real_time: bool = True
    # Azure Policy shows a changed resource's new compliance state "around 15 minutes later"
    # (get-compliance-data.md, "Evaluation triggers"; MicrosoftDocs/azure-docs
    # articles/governance/policy/how-to/get-compliance-data.md).
    policy_evaluation_delay_seconds: float = 900.0
    # The standard compliance evaluation cycle: "Once every 24 hours" (same section).
    policy_evaluation_cycle_seconds: float = 86400.0
    # An on-demand scan (triggerEvaluation) is asynchronous with "no pre-defined expectation" of its
    # length (same article); Microsoft put detection alone at up to fifteen minutes (Azure/azure-policy
    # issue 61). 202 + Location only; the Location answers 202 until done, then 200.
    evaluation_scan_seconds: float = 900.0
    # Resource Graph is an eventually consistent index that "lags behind the source of truth by a
    # brief period" (learn.microsoft.com governance/resource-graph/choose-query-strategy); the
    # Resource Graph team's figure: 95% of changes present within 30 s (Azure/azure-dev issue 540).
    graph_lag_seconds: float = 30.0
    # The request log keeps a response's JSON body when its text is at most this many bytes
    # (0: never), so a long benchmark run does not hold every large page in memory.
    log_response_body_bytes: int = 65536
    # A role assignment authorizes only this long after it is created (consistency azure): "it can
    # take up to 10 minutes for changes to take effect" (learn.microsoft.com/azure/role-based-access-
    # control/troubleshooting, "Role assignment changes are not being detected"). Until then a
    # remediation deployment that needs it fails AuthorizationFailed. Estate-seeded ones are old.
    role_propagation_seconds: float = 600.0
    # RBAC on the bot's own principal from its role assignments (caller_rbac.py); off: all-powerful.
    rbac: bool = False

    @classmethod
    def from_estate(cls, section: dict[str, Any] | None) -> Knobs:
        """Build from the estate's ``emulator`` section (already schema-validated)."""
        if not section:
            return cls()
        names = {f.name: f.name for f in fields(cls)}
        camel = {_camel(name): name for name in names}
        values: dict[str, Any] = {}
        for key, value in section.items():
            name = camel.get(key) or names.get(key)
            if name is None:
                continue
            if name == "faults":
                values[name] = tuple(Fault(**{_snake(k): v for k, v in item.items()}) for item in value)
            else:
                values[name] = value
        return cls(**values)

    def with_overrides(self, **overrides: Any) -> Knobs:
        """A copy with the given fields replaced; None values are ignored (unset CLI flags)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)
