"""The WSGI dispatcher without a socket: auth, route errors, handler bugs; and knob parsing."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import Client

from remediator.emulator.auth import TokenAuthority
from remediator.emulator.cli import _parse_fault
from remediator.emulator.dispatch import EmulatorWsgi
from remediator.emulator.knobs import Fault, Knobs
from remediator.emulator.routing import ROUTE_NO_VERSION, Request, Response, Route, route
from remediator.emulator.state import EmulatorState
from remediator.errors import UsageError

ROUTES: list[Route] = []


@route(ROUTES, "GET", "/boom", api_versions=ROUTE_NO_VERSION, name="boom")
def boom(state: EmulatorState, request: Request) -> Response:
    raise KeyError("missing")


@route(ROUTES, "PUT", "/echo", api_versions=("2024-01-01",), name="echo")
def echo(state: EmulatorState, request: Request) -> Response:
    return Response(200, {"got": request.body, "principal": request.principal})


@pytest.fixture
def client() -> tuple[Client, EmulatorState, str]:
    state = EmulatorState("t")
    authority = TokenAuthority("t")
    token = authority.issue("https://localhost", "https://localhost")
    return Client(EmulatorWsgi(state, authority, ROUTES)), state, token


def test_a_handler_bug_is_a_500_with_an_arm_body_and_is_recorded(client):
    app, state, token = client
    response = app.get("/boom", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert response.json["error"]["code"] == "InternalServerError"
    assert state.handler_errors == ["boom: KeyError: 'missing'"]


def test_unknown_route_bad_json_and_the_principal_reach_the_caller(client):
    app, _state, token = client
    auth = {"Authorization": f"Bearer {token}"}
    assert app.get("/nowhere", headers=auth).json["error"]["code"] == "InvalidResourceType"
    bad = app.put("/echo?api-version=2024-01-01", headers=auth, data="{not json", content_type="application/json")
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "InvalidRequestContent")
    good = app.put(
        "/echo?api-version=2024-01-01", headers=auth, data=json.dumps({"a": 1}), content_type="application/json"
    )
    assert good.json["got"] == {"a": 1}
    assert good.json["principal"] and good.headers["x-ms-request-id"]


def test_knobs_from_the_estate_section_use_camel_case():
    knobs = Knobs.from_estate(
        {"providerRegistrationPolls": 5, "latencyMs": 2.5, "faults": [{"route": "x", "status": 503, "count": 2}]}
    )
    assert (knobs.provider_registration_polls, knobs.latency_ms) == (5, 2.5)
    assert knobs.faults == (Fault(route="x", status=503, count=2),)
    assert knobs.with_overrides(lro_polls=0, latency_ms=None).lro_polls == 0
    assert knobs.with_overrides(latency_ms=None).latency_ms == 2.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("get_provider=503", Fault(route="get_provider", status=503, code="InjectedFault")),
        ("/register=429@0.5", Fault(route="/register", status=429, rate=0.5, code="TooManyRequests")),
        ("resource_graph_query=drop", Fault(route="resource_graph_query", drop=True)),
    ],
)
def test_fault_flags(text, expected):
    assert _parse_fault(text) == expected


@pytest.mark.parametrize("text", ["nothing", "x=abc", "x=200", "x=500@2"])
def test_bad_fault_flags_are_usage_errors(text):
    with pytest.raises(UsageError):
        _parse_fault(text)


def test_the_request_log_keeps_small_answers_and_only_the_size_of_large_ones():
    state = EmulatorState("t", knobs=Knobs(log_response_body_bytes=200))
    authority = TokenAuthority("t")
    token = authority.issue("https://localhost", "https://localhost")
    app = Client(EmulatorWsgi(state, authority, ROUTES))
    auth = {"Authorization": f"Bearer {token}"}
    small = app.put("/echo?api-version=2024-01-01", headers=auth, json={"a": 1})
    large = app.put("/echo?api-version=2024-01-01", headers=auth, json={"a": "x" * 500})
    missing = app.get("/nowhere", headers=auth)

    small_entry, large_entry, missing_entry = state.request_log
    assert small_entry.response_body == small.json and small_entry.response_body_kept
    assert small_entry.response_bytes == len(small.data)
    assert (large_entry.response_body, large_entry.response_body_kept) == (None, False)
    assert large_entry.response_bytes == len(large.data) > 200
    assert missing_entry.response_body == missing.json == {"error": missing.json["error"]}
    assert missing_entry.status == 404


def test_the_logged_answer_is_a_copy_and_token_answers_are_never_logged():
    stored = {"properties": {"n": 1}}
    routes: list[Route] = []

    @route(routes, "GET", "/stored", api_versions=ROUTE_NO_VERSION, name="stored")
    def serve_stored(state: EmulatorState, request: Request) -> Response:
        return Response(200, stored)

    state = EmulatorState("t")
    authority = TokenAuthority("t")
    app = Client(EmulatorWsgi(state, authority, routes))
    token = app.post(
        "/t/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": authority.principal.client_id,
            "client_secret": authority.principal.client_secret,
            "scope": "https://localhost/.default",
        },
    )
    assert token.status_code == 200 and "access_token" in token.json
    app.get("/stored", headers={"Authorization": f"Bearer {token.json['access_token']}"})
    stored["properties"]["n"] = 2  # the store changes after the answer was sent

    token_entry, stored_entry = state.request_log
    assert token_entry.route == "token-authority"
    assert (token_entry.response_body, token_entry.response_body_kept) == (None, False)
    assert token_entry.response_bytes > 0
    assert stored_entry.response_body == {"properties": {"n": 1}}


def test_serve_sets_the_log_bound_from_its_flag(monkeypatch):
    from click.testing import CliRunner

    from remediator.emulator import Emulator
    from remediator.emulator import cli as emulator_cli

    seen: list[Knobs] = []
    load = Emulator.load

    def load_then_stop(source, **overrides):
        seen.append(load("demo", **overrides).state.knobs)
        raise UsageError("stop before serving")

    monkeypatch.setattr(emulator_cli.Emulator, "load", load_then_stop)
    runner = CliRunner()
    runner.invoke(emulator_cli.emulator, ["serve", "--estate", "x", "--log-response-body-bytes", "0"])
    runner.invoke(emulator_cli.emulator, ["serve", "--estate", "x"])
    assert [k.log_response_body_bytes for k in seen] == [0, Knobs().log_response_body_bytes]
