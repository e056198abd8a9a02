"""Turn a spec example into the HTTP request it describes, and send it to a served emulator.

request = request_of(example)            # method, path, query, body
outcome = replay(example)                # status, body, schema errors
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from remediator.emulator import Emulator
from tests.contract.arm_client import ArmCaller, json_or_none
from tests.contract.family_seeders import estate_for
from tests.contract.schema_rules import unknown_properties
from tests.contract.seeding import Prelude
from tests.contract.swagger import Example

_PARAM = re.compile(r"\{([^}]+)\}")
SKIP_TOKEN = "$skipToken"


@dataclass(frozen=True)
class ExampleRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    has_body: bool = False

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.method} {self.path}?{query}" + (f" body={self.body!r:.300}" if self.has_body else "")


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def request_of(example: Example) -> ExampleRequest:
    """The request the example shows, at its swagger's api-version.

    Some examples were carried over from an older api-version and still say so in their
    ``api-version`` parameter; the operation replayed is the swagger's, so its version is sent.
    """
    operation, values = example.operation, example.parameters
    by_name = {str(p["name"]): p for p in operation.parameters}
    template, _, fixed_query = operation.template.partition("?")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise AssertionError(f"{example.path.name} gives no value for the path parameter {name!r}")
        value = _text(values[name])
        return value if by_name.get(name, {}).get("x-ms-skip-url-encoding") else quote(value, safe="")

    path = "/" + _PARAM.sub(substitute, template).lstrip("/")
    path = re.sub(r"/{2,}", "/", path)
    query = {k: v[0] for k, v in parse_qs(fixed_query).items()}
    for param in operation.parameter("query"):
        name = str(param["name"])
        if name == "api-version":
            query[name] = operation.api_version
        elif name in values:
            query[name] = _text(values[name])
    body_params = operation.parameter("body")
    if body_params and str(body_params[0]["name"]) in values:
        return ExampleRequest(operation.method, path, query, values[str(body_params[0]["name"])], True)
    return ExampleRequest(operation.method, path, query)


@dataclass
class Outcome:
    request: ExampleRequest
    status: int
    body: Any
    errors: list[str] = field(default_factory=list)

    def explain(self) -> str:
        return f"{self.request.describe()}\n-> {self.status} {self.body!r:.1500}\n" + "\n".join(self.errors)


def replay(example: Example) -> Outcome:
    """Seed an emulator with what the example shows, send its request, judge the response."""
    request = request_of(example)
    estate, preludes = estate_for(example, request.path, request.body)
    emulator = Emulator.load(estate)
    with emulator.serve(port=0) as endpoint:
        caller = ArmCaller(endpoint)
        refusal = _refusals(example, caller, request)
        for prelude in preludes:
            _run_prelude(caller, prelude, {"api-version": request.query["api-version"]})
        if SKIP_TOKEN in request.query:
            request = _with_own_skip_token(caller, request)
        response = caller.call(request.method, request.path, request.query, request.body, request.has_body)
    body = json_or_none(response)
    outcome = Outcome(request, response.status_code, body, refusal)
    listed = sorted(example.responses)
    if str(response.status_code) not in example.responses:
        outcome.errors.append(f"status {response.status_code} is not one the example lists ({', '.join(listed)})")
        return outcome
    shown = example.responses[str(response.status_code)].get("body")
    tolerated: frozenset[str] = frozenset()
    if shown is not None:
        schema = example.operation.response_schema_uri(response.status_code)
        if schema is not None:
            tolerated = unknown_properties(example.operation.folder.resolver, schema, shown)
    outcome.errors.extend(example.operation.response_errors(response.status_code, body, tolerated))
    outcome.errors.extend(_identity_differences(request.path, shown, body))
    return outcome


UNKNOWN_API_VERSION = "1999-01-01"


def _refusals(example: Example, caller: ArmCaller, request: ExampleRequest) -> list[str]:
    """The request without a bearer token, without an api-version and at one nobody publishes is
    refused as ARM does, with the operation's error schema (sent first, so nothing changes)."""
    unknown = {**request.query, "api-version": UNKNOWN_API_VERSION}
    missing = {k: v for k, v in request.query.items() if k != "api-version"}
    cases = (
        ("without a bearer token", request.query, False, 401, ("AuthenticationFailed", "InvalidAuthenticationToken")),
        ("without api-version", missing, True, 400, ("MissingApiVersionParameter",)),
        (f"at api-version {UNKNOWN_API_VERSION}", unknown, True, 400, ("InvalidApiVersionParameter",)),
    )
    problems = []
    for label, query, authenticated, status, codes in cases:
        response = caller.call(
            request.method, request.path, query, request.body, request.has_body, authenticated=authenticated
        )
        body = json_or_none(response)
        code = ((body or {}).get("error") or {}).get("code") if isinstance(body, dict) else None
        found = example.operation.response_errors(response.status_code, body)
        if response.status_code != status or code not in codes:
            found.append(f"expected {status} {' or '.join(codes)}, got {response.status_code} {body!r:.300}")
        problems += [f"{label}: {problem}" for problem in found]
    return problems


def replay_unseeded(example: Example, caller: ArmCaller) -> Outcome:
    """Send the example's request to a tenant that holds nothing: whatever comes back must fit the
    swagger — a status the example lists with its schema, or a 4xx with the operation's error schema."""
    request = request_of(example)
    response = caller.call(request.method, request.path, request.query, request.body, request.has_body)
    body = json_or_none(response)
    outcome = Outcome(request, response.status_code, body)
    if str(response.status_code) not in example.responses and not 400 <= response.status_code < 500:
        outcome.errors.append(f"status {response.status_code}: neither one the example lists nor a client error")
    outcome.errors.extend(example.operation.response_errors(response.status_code, body))
    return outcome


def _identity_differences(path: str, shown: Any, served: Any) -> list[str]:
    """A single resource answers with the type the example shows, and, when the request named the
    resource (the example's id is the request path), with its id and name too (ARM ids ignore case).
    A name the service picks (``applyUpdates/default`` answers with a fresh one) is not compared."""
    if not (isinstance(shown, dict) and isinstance(served, dict) and "id" in shown):
        return []
    keys = ("id", "name", "type") if str(shown["id"]).lower() == path.lower() else ("type",)
    return [
        f"{key}: the example shows {shown[key]!r}, the emulator answered {served.get(key)!r}"
        for key in keys
        if key in shown and str(shown[key]).lower() != str(served.get(key, "")).lower()
    ]


TERMINAL = ("succeeded", "failed", "canceled")
MAX_POLLS = 50


def _run_prelude(caller: ArmCaller, prelude: Prelude, query: dict[str, str]) -> None:
    for _ in range(MAX_POLLS if prelude.until_done else 1):
        response = caller.call(prelude.method, prelude.path, query, prelude.body, prelude.body is not None)
        assert response.status_code < 300, f"prelude {prelude} -> {response.status_code} {response.text:.500}"
        state = str(((json_or_none(response) or {}).get("properties") or {}).get("provisioningState", ""))
        if not prelude.until_done or state.lower() in TERMINAL:
            return
    raise AssertionError(f"prelude {prelude}: still not done after {MAX_POLLS} polls")


def _with_own_skip_token(caller: ArmCaller, request: ExampleRequest) -> ExampleRequest:
    """A `$skipToken` is opaque and issued by the service: use the one the emulator's first page gives."""
    first = {k: v for k, v in request.query.items() if k != SKIP_TOKEN}
    page = json_or_none(caller.call(request.method, request.path, first, request.body, request.has_body))
    link = (page or {}).get("@odata.nextLink") or (page or {}).get("nextLink") if isinstance(page, dict) else None
    if not link:
        return request  # no next page: the example's own token goes out, and the answer is judged as is
    token = {k.lower(): v[0] for k, v in parse_qs(urlparse(str(link)).query).items()}.get(SKIP_TOKEN.lower())
    return ExampleRequest(
        request.method, request.path, {**first, SKIP_TOKEN: token or ""}, request.body, request.has_body
    )
