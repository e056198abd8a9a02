"""What happens to a request before its handler runs: latency, injected faults, throttling.

Throttling follows ARM: a token bucket per subscription and principal for reads (GET/HEAD),
writes (PUT/PATCH/POST) and deletes, answering 429 ``SubscriptionRequestsThrottled`` with
``Retry-After``, and ``x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}`` on every
answer. Resource Graph has its own quota per principal (``graph_quota`` queries per
``graph_quota_window_seconds``) with ``x-ms-user-quota-remaining`` and
``x-ms-user-quota-resets-after``. Buckets refill by wall-clock time (that is what the SDK's retry
policy reacts to); nothing else in the emulator does.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from remediator.emulator.knobs import Fault
from remediator.emulator.routing import Request, Response, Route, arm_error
from remediator.emulator.store import subscription_of

if TYPE_CHECKING:
    from remediator.emulator.state import EmulatorState

GRAPH_ROUTE = "resource_graph_query"
OPERATION_PATH_PREFIX = "/providers/microsoft.emulator/"

# A sentinel response: the dispatcher closes the connection instead of answering.
DROP_CONNECTION = Response(0)


@dataclass
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self) -> tuple[bool, int, float]:
        """(allowed, whole tokens left, seconds until one token is back)."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True, int(self.tokens), 0.0
        wait = (1 - self.tokens) / self.refill_per_second if self.refill_per_second > 0 else 3600.0
        return False, 0, wait


@dataclass
class QuotaWindow:
    """Resource Graph's per-principal quota: ``limit`` queries per fixed window."""

    limit: int
    window: float
    used: int = 0
    started: float = field(default_factory=time.monotonic)

    def take(self) -> tuple[bool, int, float]:
        now = time.monotonic()
        if now - self.started >= self.window:
            self.started, self.used = now, 0
        resets_after = self.window - (now - self.started)
        if self.used >= self.limit:
            return False, 0, resets_after
        self.used += 1
        return True, self.limit - self.used, resets_after


def _kind(method: str) -> str:
    if method in ("GET", "HEAD"):
        return "reads"
    if method == "DELETE":
        return "deletes"
    return "writes"


def _hhmmss(seconds: float) -> str:
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


class RequestGate:
    """Applies the knobs around each routed request (thread-safe)."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._graph: dict[str, QuotaWindow] = {}
        self._fault_hits: dict[int, int] = {}
        self._writes = 0
        self._random = random.Random(state.knobs.seed)

    def before(self, route: Route, request: Request) -> Response | None:
        """A response that replaces the handler's (fault, 429), or None to go on."""
        knobs = self.state.knobs
        if knobs.latency_ms > 0:
            time.sleep(knobs.latency_ms / 1000)
        fault = self._fault_for(route, request)
        if fault is not None:
            if fault.drop:
                return DROP_CONNECTION
            return arm_error(fault.status, fault.code, fault.message, fault.headers() or None)
        if not knobs.throttling:
            return None
        if route.name == GRAPH_ROUTE:
            return self._graph_quota(request)
        if request.path.lower().startswith(OPERATION_PATH_PREFIX):
            return None  # polling an operation is not an ARM call against a subscription
        return self._arm_bucket(request)

    def after(self, route: Route, request: Request, response: Response) -> None:
        """Nothing to add after the handler yet; the headers are set in :meth:`before`."""
        del route, request, response

    # --- faults ------------------------------------------------------------------------------

    def _fault_for(self, route: Route, request: Request) -> Fault | None:
        if request.method in ("PUT", "PATCH", "DELETE") or (request.method == "POST" and route.name != GRAPH_ROUTE):
            with self._lock:
                self._writes += 1
        for index, fault in enumerate(self.state.knobs.faults):
            if fault.after_writes and self._writes <= fault.after_writes:
                continue
            if fault.method and fault.method.upper() != request.method:
                continue
            if fault.route != route.name and fault.route.lower() not in request.path.lower():
                continue
            with self._lock:
                hits = self._fault_hits.get(index, 0)
                if fault.count and hits >= fault.count:
                    continue
                if fault.rate < 1.0 and self._random.random() >= fault.rate:
                    continue
                self._fault_hits[index] = hits + 1
            return fault
        return None

    # --- throttling --------------------------------------------------------------------------

    def _arm_bucket(self, request: Request) -> Response | None:
        knobs = self.state.knobs
        kind = _kind(request.method)
        scope = subscription_of(request.path).lower() or "tenant"
        key = (scope, request.principal, kind)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                burst, rate = (
                    (knobs.reads_burst, knobs.reads_per_second)
                    if kind == "reads"
                    else (knobs.writes_burst, knobs.writes_per_second)
                )
                bucket = self._buckets[key] = TokenBucket(capacity=burst, refill_per_second=rate)
            allowed, remaining, wait = bucket.take()
        header = f"x-ms-ratelimit-remaining-subscription-{kind}"
        if allowed:
            self._pending_headers(request)[header] = str(remaining)
            return None
        return arm_error(
            429,
            "SubscriptionRequestsThrottled",
            f"Number of '{kind}' requests for subscription '{scope}' actor '{request.principal}' "
            f"exceeded. Please try again after '{math.ceil(wait)}' seconds.",
            {"Retry-After": str(max(1, math.ceil(wait))), header: "0"},
        )

    def _graph_quota(self, request: Request) -> Response | None:
        knobs = self.state.knobs
        with self._lock:
            window = self._graph.get(request.principal)
            if window is None:
                window = self._graph[request.principal] = QuotaWindow(
                    limit=knobs.graph_quota, window=knobs.graph_quota_window_seconds
                )
            allowed, remaining, resets_after = window.take()
        headers = {
            "x-ms-user-quota-remaining": str(remaining),
            "x-ms-user-quota-resets-after": _hhmmss(resets_after),
        }
        if allowed:
            self._pending_headers(request).update(headers)
            return None
        headers["Retry-After"] = str(max(1, math.ceil(resets_after)))
        return arm_error(
            429,
            "RateLimiting",
            "Please provide below info when asking for support: client quota exceeded, "
            f"retry after {_hhmmss(resets_after)}.",
            headers,
        )

    @staticmethod
    def _pending_headers(request: Request) -> dict[str, str]:
        """Headers to add to the handler's eventual response (kept on the request)."""
        return request.extra_headers
