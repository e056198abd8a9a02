"""The WSGI application: token authority, bearer check, knobs, route selection, request log.

Order per request: the token authority's own endpoints (no bearer); the bearer check (401);
the request gate of ``knobs`` (latency, injected faults, throttling); route selection (most
specific match, see ``routing.py``); the subscription check (``subscription_access.py``: ARM's
404 ``SubscriptionNotFound`` / 409 ``ReadOnlyDisabledSubscription`` before any route runs); the
api-version check; the handler under ``state.lock``;
the log entry.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import time
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request as WzRequest
from werkzeug.wrappers import Response as WzResponse

from remediator.emulator import caller_rbac
from remediator.emulator.auth import TokenAuthority
from remediator.emulator.gate import DROP_CONNECTION, RequestGate
from remediator.emulator.policy_consistency import request_served
from remediator.emulator.routing import (
    ArmError,
    Request,
    Response,
    Route,
    arm_error,
    check_api_version,
)
from remediator.emulator.state import EmulatorState, LogEntry
from remediator.emulator.subscription_access import subscription_refusal

logger = logging.getLogger(__name__)


class EmulatorWsgi:
    """The whole HTTP surface of the emulator as one WSGI callable."""

    def __init__(self, state: EmulatorState, authority: TokenAuthority, routes: list[Route]) -> None:
        self.state = state
        self.authority = authority
        self.routes = routes
        self.gate = RequestGate(state)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.perf_counter()
        wz = WzRequest(environ)
        base_url = f"https://{wz.host}"
        query = {key: wz.args.get(key, "") for key in wz.args}
        route_name = ""
        principal = ""
        body: Any = None
        try:
            body = _parse_body(wz)
            authority_response = self.authority.handle(wz.method, wz.path, wz.form, base_url)
            if authority_response is not None:
                response = authority_response
                route_name = "token-authority"
            else:
                principal_id, refusal = self.authority.authenticate(wz.headers.get("Authorization"))
                principal = principal_id or ""
                request = Request(
                    method=wz.method,
                    path=wz.path,
                    params={},
                    query=query,
                    body=body,
                    headers=dict(wz.headers.items()),
                    base_url=base_url,
                    principal=principal,
                )
                if refusal is not None:
                    route_name, response = "unauthenticated", refusal
                else:
                    route_name, response = self._route(request)
        except ArmError as error:
            response = error.response()
        if response is DROP_CONNECTION:
            self._log(wz, query, body, 0, started, route_name, principal, None)
            _drop(environ)
            return []
        # Serialised once: the same bytes are sent and (when small) logged.
        answer = None if response.body is None else json.dumps(response.body).encode("utf-8")
        self._log(wz, query, body, response.status, started, route_name, principal, answer)
        return _to_wsgi(response, answer)(environ, start_response)

    def _route(self, request: Request) -> tuple[str, Response]:
        route_, params = self._select(request.method, request.path)
        if route_ is None:
            return "", subscription_refusal(self.state, request) or params_error(request)
        request = dataclasses.replace(request, params=params)
        gated = self.gate.before(route_, request)
        if gated is not None:
            return route_.name, gated
        try:
            refusal = subscription_refusal(self.state, request)
            if refusal is None and self.state.knobs.rbac:
                with self.state.lock:
                    refusal = caller_rbac.refusal(self.state, request)
            if refusal is not None:
                response = refusal
            else:
                check_api_version(route_, request)
                with self.state.lock:
                    # What fell due on the simulated clock happens before the request is seen.
                    self.state.run_due()
                    response = route_.handler(self.state, request)
        except ArmError as error:
            response = error.response()
        except Exception as error:
            # A bug in a handler: answer like ARM does (500 + error body) instead of Werkzeug's
            # HTML page, log the traceback, and keep it for tests (state.handler_errors).
            logger.exception("emulator handler %s failed on %s %s", route_.name, request.method, request.path)
            with self.state.lock:
                self.state.handler_errors.append(f"{route_.name}: {type(error).__name__}: {error}")
            response = arm_error(500, "InternalServerError", f"Emulator handler '{route_.name}' failed: {error}")
        self.gate.after(route_, request, response)
        request_served(self.state, request.method, request.path, response.status)
        response.headers.update(request.extra_headers)
        return route_.name, response

    def _select(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        best: tuple[Route, dict[str, str]] | None = None
        for candidate in self.routes:
            params = candidate.match(method, path)
            if params is None:
                continue
            if best is None or candidate.specificity > best[0].specificity:
                best = (candidate, params)
        return (best[0], best[1]) if best else (None, {})

    def _log(
        self,
        wz: WzRequest,
        query: dict[str, str],
        body: Any,
        status: int,
        started: float,
        route_name: str,
        principal: str,
        answer: bytes | None,
    ) -> None:
        # Tokens stay out of the log: neither the authority's request nor its answer is kept.
        secret = route_name == "token-authority"
        size = len(answer or b"")
        kept = not secret and size <= self.state.knobs.log_response_body_bytes
        entry = LogEntry(
            method=wz.method,
            path=wz.path,
            query=query,
            status=status,
            duration=time.perf_counter() - started,
            api_version=query.get("api-version"),
            body=None if secret else body,
            route=route_name,
            principal=principal,
            response_json=answer if kept else None,
            response_bytes=size,
            response_body_kept=kept,
        )
        with self.state.lock:
            self.state.request_log.append(entry)


def params_error(request: Request) -> Response:
    """No route: ARM's answer for a path no resource provider serves."""
    return arm_error(
        404,
        "InvalidResourceType",
        f"The resource type could not be found for the path '{request.path}' and method '{request.method}'.",
    )


def _parse_body(wz: WzRequest) -> Any:
    if wz.mimetype == "application/x-www-form-urlencoded":
        return None
    raw = wz.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid JSON: {exc}") from exc


def _to_wsgi(response: Response, answer: bytes | None) -> WzResponse:
    headers = {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-correlation-request-id": str(uuid.uuid4()),
        **response.headers,
    }
    if answer is None:
        return WzResponse(b"", status=response.status, headers=headers)
    return WzResponse(
        answer,
        status=response.status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


def _drop(environ: dict[str, Any]) -> None:
    """End the client's connection without an answer (the 'dropped connection' fault).

    Only shut the socket down: Werkzeug then sees a broken pipe when it tries to answer, which it
    treats as a dropped connection, and closes the socket itself.
    """
    connection = environ.get("werkzeug.socket")
    if isinstance(connection, socket.socket):
        connection.shutdown(socket.SHUT_RDWR)
