"""How the emulator's ARM routes are declared, and the helpers every route module uses.

A route module (``providers.py``, ``policy.py``, ``maintenance.py``, ...) holds one module-level
``ROUTES: list[Route]`` and adds handlers to it with the :func:`route` decorator::

    from remediator.emulator.routing import ROUTE_ANY_VERSION, Request, Response, Route, route
    from remediator.emulator.state import EmulatorState

    ROUTES: list[Route] = []

    @route(ROUTES, "GET", "/subscriptions/{subscriptionId}/providers/{namespace}",
           api_versions=("2025-04-01", "2024-11-01"))
    def get_provider(state: EmulatorState, request: Request) -> Response:
        ns = request.params["namespace"]              # path params keep the caller's casing
        return Response(200, {...})

The app (``app.py``) imports route modules from ONE explicit list (``ROUTE_MODULES``); adding a
module means adding it there.

Patterns
    Literal segments match case-insensitively (ARM ids are case-insensitive). ``{name}`` matches
    one path segment; ``{name*}`` matches one or more segments (a whole scope or resource id,
    e.g. ``"{scope*}/providers/Microsoft.PolicyInsights/remediations/{name}"``) and its value
    keeps its leading slash (``"/subscriptions/S/resourceGroups/rg"``). When several
    routes match, the one with the most literal segments wins, then the one with fewer ``*``
    parameters, then the first declared. The generic resource routes (``arm_generic.py``) are
    all-wildcard, so any more specific route takes precedence over them.

api-versions
    ``api_versions`` is the tuple of versions the route accepts. A request without
    ``api-version`` gets 400 ``MissingApiVersionParameter``, another version 400
    ``InvalidApiVersionParameter`` (ARM's wording, listing the supported versions).
    ``ROUTE_ANY_VERSION`` lets the handler decide (the generic store checks per resource type);
    ``ROUTE_NO_VERSION`` is for non-ARM endpoints (token authority, operation status).

Handlers
    ``handler(state, request) -> Response``. Handlers run while the dispatcher holds
    ``state.lock`` (one re-entrant lock for the whole emulator state), so they read and write the
    store freely but must not sleep or block. Raise :class:`ArmError` for an ARM error response
    (it is turned into ``{"error": {"code", "message"}}`` with its status) or return
    :func:`arm_error` directly.

Helpers
    :func:`arm_error`, :func:`paged` (``value`` + ``nextLink`` with an opaque ``$skiptoken``),
    :func:`long_running` (201/202 with ``Azure-AsyncOperation`` and ``Location`` whose status
    endpoints advance one step per poll: InProgress ... -> Succeeded/Failed), and the per-poll
    tick mechanism :class:`Countdowns` on ``state.countdowns``: ``start(key, polls, on_tick)``
    registers something asynchronous, ``poll(key)`` (call it from the GET handler that observes
    it) advances it by one step and calls ``on_tick(remaining)``; ``remaining == 0`` is the last
    call. Nothing depends on wall-clock time, so tests are deterministic.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from remediator.emulator.state import EmulatorState

ROUTE_ANY_VERSION: tuple[str, ...] = ("*",)
ROUTE_NO_VERSION: tuple[str, ...] = ()

SKIP_TOKEN_PARAMS = ("$skiptoken", "$skipToken")


class ArmError(Exception):
    """An ARM error response: raise it from a handler to answer ``{"error": {code, message}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details or []

    def response(self) -> Response:
        response = arm_error(self.status, self.code, self.message, self.headers)
        if self.details:
            response.body["error"]["details"] = self.details
        return response


@dataclass
class Response:
    """What a handler returns: status, a JSON-serialisable body (or None), extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """A parsed request as handlers see it.

    ``path`` is the URL path as sent; ``params`` the path parameters (caller's casing); ``query``
    the query string (first value of each name, names as sent); ``body`` the parsed JSON body or
    None; ``principal`` the caller's object id from the bearer token ("" before auth);
    ``base_url`` is ``https://host:port`` for building ``nextLink`` and operation URLs.
    """

    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    headers: Mapping[str, str]
    base_url: str
    principal: str = ""
    # Headers the request gate adds to whatever the handler answers (rate-limit counters).
    extra_headers: dict[str, str] = field(default_factory=dict)

    def q(self, name: str) -> str | None:
        """A query parameter by name, case-insensitively (``$filter``/``$Filter``)."""
        lowered = name.lower()
        for key, value in self.query.items():
            if key.lower() == lowered:
                return value
        return None

    @property
    def api_version(self) -> str | None:
        return self.q("api-version")

    @property
    def filter(self) -> str | None:
        return self.q("$filter")

    @property
    def top(self) -> int | None:
        raw = self.q("$top")
        if raw is None:
            return None
        try:
            return int(raw)
        except ValueError as exc:
            raise ArmError(400, "InvalidQueryParameterValue", f"$top '{raw}' is not an integer") from exc

    @property
    def skip_token(self) -> str | None:
        return self.q("$skiptoken")

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or 400 ``InvalidRequestContent``."""
        if not isinstance(self.body, dict):
            raise ArmError(400, "InvalidRequestContent", "The request content must be a JSON object.")
        return self.body


Handler = Callable[["EmulatorState", Request], Response]

_PARAM = re.compile(r"^\{(\w+)(\*?)\}$")


@dataclass(frozen=True)
class Route:
    """One declared route; build it with :func:`route`."""

    method: str
    pattern: str
    api_versions: tuple[str, ...]
    handler: Handler
    name: str
    regex: re.Pattern[str]
    literal_segments: int
    wildcard_params: int

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method.upper() != self.method:
            return None
        found = self.regex.match(path.rstrip("/") or "/")
        return found.groupdict() if found else None

    @property
    def specificity(self) -> tuple[int, int]:
        return (self.literal_segments, -self.wildcard_params)


def compile_pattern(pattern: str) -> tuple[re.Pattern[str], int, int]:
    """Turn ``/a/{x}/b/{rest*}`` into a case-insensitive regex; count literals and ``*`` params."""
    parts: list[str] = []
    literals = 0
    wildcards = 0
    for segment in pattern.strip("/").split("/"):
        param = _PARAM.match(segment)
        if param and param.group(2):
            wildcards += 1
            # A multi-segment parameter swallows its own leading slash so "{scope*}" can be "".
            parts.append(f"(?P<{param.group(1)}>(?:/[^/]+)+?)")
        elif param:
            parts.append(f"/(?P<{param.group(1)}>[^/]+)")
        else:
            literals += 1
            parts.append("/" + re.escape(segment))
    regex = re.compile("^" + "".join(parts) + "$", re.IGNORECASE)
    return regex, literals, wildcards


def route(
    routes: list[Route], method: str, pattern: str, *, api_versions: tuple[str, ...], name: str = ""
) -> Callable[[Handler], Handler]:
    """Decorator: declare ``handler`` for ``method`` + ``pattern`` and append it to ``routes``."""

    def register(handler: Handler) -> Handler:
        regex, literals, wildcards = compile_pattern(pattern)
        routes.append(
            Route(
                method=method.upper(),
                pattern=pattern,
                api_versions=tuple(api_versions),
                handler=handler,
                name=name or handler.__name__,
                regex=regex,
                literal_segments=literals,
                wildcard_params=wildcards,
            )
        )
        return handler

    return register


def arm_error(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """ARM's error body: ``{"error": {"code": ..., "message": ...}}``."""
    return Response(status, {"error": {"code": code, "message": message}}, dict(headers or {}))


def check_api_version(route_: Route, request: Request) -> None:
    """Raise ARM's 400 for a missing or unsupported api-version (no-op for the special tuples)."""
    if route_.api_versions in (ROUTE_ANY_VERSION, ROUTE_NO_VERSION):
        return
    require_api_version(request, route_.api_versions, what=route_.pattern)


def require_api_version(request: Request, supported: tuple[str, ...], *, what: str) -> str:
    version = request.api_version
    if version is None:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    if version not in supported:
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid for '{what}'. "
            f"The supported versions are '{','.join(sorted(supported, reverse=True))}'.",
        )
    return version


# --- paging -----------------------------------------------------------------------------------


def encode_skip_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_skip_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{token}' is not valid.") from exc
    if not isinstance(offset, int) or offset < 0:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{token}' is not valid.")
    return offset


def next_link(request: Request, offset: int) -> str:
    """The request's own URL with ``$skiptoken`` set to continue at ``offset``."""
    query = {k: v for k, v in request.query.items() if k.lower() != "$skiptoken"}
    query["$skiptoken"] = encode_skip_token(offset)
    return f"{request.base_url}{request.path}?{urlencode(query)}"


def paged(
    request: Request,
    items: list[Any],
    *,
    page_size: int,
    link_key: str = "nextLink",
) -> Response:
    """A 200 list page: ``{"value": [...], "nextLink": ...}``, honouring ``$top`` and ``$skiptoken``.

    ``$top`` caps the total (ARM list semantics); ``page_size`` is the server's page length.
    """
    top = request.top
    if top is not None:
        items = items[: max(top, 0)]
    offset = decode_skip_token(request.skip_token)
    page = items[offset : offset + page_size]
    body: dict[str, Any] = {"value": page}
    if offset + page_size < len(items):
        body[link_key] = next_link(request, offset + page_size)
    return Response(200, body)


# --- per-poll ticks -------------------------------------------------------------------------


class Countdowns:
    """Asynchronous things that advance one step per observing poll, never by wall-clock time."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._pending: dict[str, tuple[int, Callable[[int], None]]] = {}

    def start(self, key: str, polls: int, on_tick: Callable[[int], None]) -> None:
        """Register ``key``; the next ``polls`` calls of :meth:`poll` tick it down to zero.

        ``polls <= 0`` completes immediately (``on_tick(0)`` is called now).
        """
        with self._lock:
            if polls <= 0:
                self._pending.pop(key.lower(), None)
                on_tick(0)
                return
            self._pending[key.lower()] = (polls, on_tick)

    def poll(self, key: str) -> bool:
        """Advance ``key`` by one step; True when it is finished (or was never pending)."""
        with self._lock:
            entry = self._pending.get(key.lower())
            if entry is None:
                return True
            remaining, on_tick = entry
            remaining -= 1
            if remaining <= 0:
                del self._pending[key.lower()]
            else:
                self._pending[key.lower()] = (remaining, on_tick)
        on_tick(max(remaining, 0))
        return remaining <= 0

    def pending(self, key: str) -> bool:
        with self._lock:
            return key.lower() in self._pending

    def cancel(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key.lower(), None)


# --- long-running operations ----------------------------------------------------------------


@dataclass
class OperationOutcome:
    """How a long-running operation ends. ``result`` is what its Location URL serves (None: 204)."""

    status: str = "Succeeded"  # Succeeded | Failed | Canceled
    result: Any = None
    error: ArmError | None = None


@dataclass
class Operation:
    id: str
    status: str = "InProgress"
    outcome: OperationOutcome | None = None
    start_time: str = ""
    end_time: str = ""


OPERATION_STATUS_PATH = "/providers/Microsoft.Emulator/operationStatuses/{operationId}"
OPERATION_RESULT_PATH = "/providers/Microsoft.Emulator/operationResults/{operationId}"


def long_running(
    state: EmulatorState,
    request: Request,
    *,
    complete: Callable[[], OperationOutcome],
    status: int = 202,
    body: Any = None,
    polls: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Answer ``status`` (201/202, or 200 for an ARM PUT that returns the body at once) with
    ``Azure-AsyncOperation`` and ``Location`` headers.

    The operation reports InProgress for ``polls`` polls of either URL (default: the
    ``lro_polls`` knob), then calls ``complete()`` exactly once and reports its outcome.
    """
    operation_id = str(uuid.uuid4())
    operation = Operation(id=operation_id, start_time=state.now_iso())
    steps = state.knobs.lro_polls if polls is None else polls

    def on_tick(remaining: int) -> None:
        if remaining == 0 and operation.outcome is None:
            try:
                outcome = complete()
            except ArmError as error:
                outcome = OperationOutcome(status="Failed", error=error)
            operation.outcome = outcome
            operation.status = outcome.status
            operation.end_time = state.now_iso()

    state.operations[operation_id] = operation
    state.countdowns.start("operation:" + operation_id, steps, on_tick)
    suffix = "?" + urlencode({"api-version": request.api_version or "2020-01-01"})
    out = {
        "Azure-AsyncOperation": request.base_url + OPERATION_STATUS_PATH.format(operationId=operation_id) + suffix,
        "Location": request.base_url + OPERATION_RESULT_PATH.format(operationId=operation_id) + suffix,
        "Retry-After": str(state.knobs.retry_after_seconds),
    }
    out.update(headers or {})
    return Response(status, body, out)
