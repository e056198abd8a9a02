"""``POST /providers/Microsoft.ResourceGraph/resources``: scoped KQL queries with paging.

Scope: ``subscriptions``, ``managementGroups`` (resolved through the estate's hierarchy) or,
with neither, the whole tenant. ``options.$top`` (1..1000, default 1000) is the page size,
``options.$skip`` an offset, ``options.$skipToken`` continues a previous answer. Evaluated
results are cached per query and scope while the state is unchanged, so paging through 100,000
rows evaluates the query once.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.authorization import permitted
from remediator.emulator.gate import GRAPH_ROUTE
from remediator.emulator.graph.functions import KqlError
from remediator.emulator.graph.parser import compile_query, evaluate
from remediator.emulator.graph.tables import TABLES, table_rows
from remediator.emulator.graph_lag import graph_token
from remediator.emulator.routing import (
    ArmError,
    Request,
    Response,
    Route,
    decode_skip_token,
    encode_skip_token,
    route,
)
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []

MAX_TOP = 1000
RESULT_CACHE_SIZE = 16
# A tenant or management-group query over more subscriptions than this is refused with
# TooManySubscriptionsUnderScope unless options.allowPartialScopes is set, when it answers for
# the first this-many only. The figure and the error are the service's own answer quoted in
# Azure/cosmos-explorer issue 1986 (2024); the option is in the 2021-03-01 spec ("allow partial
# scopes for result in case the number of subscriptions exceed allowed limits").
SUBSCRIPTIONS_UNDER_SCOPE_LIMIT = 18000

Row = dict[str, Any]


def _bad_request(message: str, detail_code: str = "InvalidQuery") -> ArmError:
    return ArmError(400, "BadRequest", message, details=[{"code": detail_code, "message": message}])


def _too_many_subscriptions() -> ArmError:
    message = (
        "The number of subscriptions under provided tenant or management groups in the request has exceeded the "
        f"allowed limit {SUBSCRIPTIONS_UNDER_SCOPE_LIMIT}. Please select a more granular scope or allow partial "
        "scopes results by passing AllowPartialScopes flag in the query options."
    )
    return ArmError(
        400,
        "BadRequest",
        "Please provide below info when asking for support.",
        details=[{"code": "TooManySubscriptionsUnderScope", "message": message}],
    )


def _within_limit(subscriptions: list[str], partial: bool) -> set[str]:
    if len(subscriptions) <= SUBSCRIPTIONS_UNDER_SCOPE_LIMIT:
        return set(subscriptions)
    if not partial:
        raise _too_many_subscriptions()
    return set(subscriptions[:SUBSCRIPTIONS_UNDER_SCOPE_LIMIT])


def _in_scope(state: EmulatorState, body: dict[str, Any]) -> tuple[tuple[Any, ...], Any]:
    """(cache key of the scope, row predicate or None for the whole tenant)."""
    subscriptions = [str(s).lower() for s in body.get("subscriptions") or []]
    groups = [str(g) for g in body.get("managementGroups") or []]
    partial = bool((body.get("options") or {}).get("allowPartialScopes"))
    if subscriptions:
        allowed = set(subscriptions)
        return ("subs", *sorted(allowed)), lambda row: str(row.get("subscriptionId") or "").lower() in allowed
    if groups:
        under: list[str] = []
        prefixes: list[str] = []
        for group in groups:
            if state.management_group(group) is None:
                raise _bad_request(f"The management group '{group}' could not be found.", "ManagementGroupNotFound")
            under.extend(s.lower() for s in state.management_group_subscriptions(group))
            prefixes.extend(
                f"/providers/microsoft.management/managementgroups/{name.lower()}"
                for name in state.management_group_tree(group)
            )
        prefix_tuple = tuple(prefixes)
        subs = _within_limit(list(dict.fromkeys(under)), partial)

        def in_groups(row: Row) -> bool:
            sub = str(row.get("subscriptionId") or "").lower()
            if sub:
                return sub in subs
            row_id = str(row.get("id") or "").lower()
            return any(row_id == p or row_id.startswith(p + "/") for p in prefix_tuple)

        return ("groups", *sorted(g.lower() for g in groups), len(subs)), in_groups
    everything = list(state.subscriptions)
    if len(everything) > SUBSCRIPTIONS_UNDER_SCOPE_LIMIT:
        allowed = _within_limit(everything, partial)
        key = ("tenant-partial", len(allowed))
        return key, lambda row: not row.get("subscriptionId") or str(row["subscriptionId"]).lower() in allowed
    return ("tenant",), None


def _visible(state: EmulatorState, viewer: str, rows: list[Row]) -> list[Row]:
    """The rows ``viewer`` may read: "Without at least read permissions to the Azure object or object
    group, results aren't returned" (learn.microsoft.com/azure/governance/resource-graph/overview,
    Permissions in Azure Resource Graph). Only with the ``rbac`` knob on (caller_rbac.py).
    Policy state rows are left alone: which permission Azure checks for them is not documented."""
    return [
        row
        for row in rows
        if not row.get("id")
        or str(row.get("type", "")).lower().startswith("microsoft.policyinsights/")
        or permitted(state, viewer, f"{row.get('type')}/read", str(row.get("id")))
    ]


def _run(state: EmulatorState, query: str, body: dict[str, Any], viewer: str = "") -> list[Row]:
    scope_key, predicate = _in_scope(state, body)
    if viewer:
        scope_key = (*scope_key, "viewer", viewer.lower())
    cache: OrderedDict[tuple[Any, ...], list[Row]] = state.extras.setdefault("graph.results", OrderedDict())
    fingerprint = (
        state.store.version,
        len(state.subscriptions),
        state.policy_states_version,
        id(state.policy_states),
        len(state.policy_states),
        graph_token(state),  # rows whose Resource Graph lag ran out show anew
    )
    key = (query, scope_key, fingerprint)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    try:
        pipeline = compile_query(query)
    except KqlError as error:
        raise _bad_request(str(error)) from None

    def table(name: str, types: frozenset[str] | None) -> list[Row]:
        if name.lower() not in TABLES:
            raise KqlError(f"unsupported table '{name}'; supported: {', '.join(TABLES)}")
        rows = table_rows(state, name.lower(), types)
        rows = rows if predicate is None else [row for row in rows if predicate(row)]
        return _visible(state, viewer, rows) if viewer else rows

    try:
        rows = evaluate(pipeline, table)
    except KqlError as error:
        raise _bad_request(str(error)) from None
    cache[key] = rows
    while len(cache) > RESULT_CACHE_SIZE:
        cache.popitem(last=False)
    return rows


def _table_format(rows: list[Row]) -> dict[str, Any]:
    names: list[str] = []
    for row in rows:
        names.extend(name for name in row if name not in names)
    return {
        "columns": [{"name": name, "type": _column_type(rows, name)} for name in names],
        "rows": [[row.get(name) for name in names] for row in rows],
    }


def _column_type(rows: list[Row], name: str) -> str:
    for row in rows:
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int | float):
            return "integer" if isinstance(value, int) else "number"
        return "object" if isinstance(value, dict | list) else "string"
    return "string"


@route(
    ROUTES,
    "POST",
    "/providers/Microsoft.ResourceGraph/resources",
    api_versions=api_versions.RESOURCE_GRAPH,
    name=GRAPH_ROUTE,
)
def resource_graph_query(state: EmulatorState, request: Request) -> Response:
    body = request.json_object()
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _bad_request("The request must contain a 'query'.", "MissingQuery")
    if body.get("facets"):
        raise _bad_request("Facets are not supported by the emulator.", "UnsupportedFacets")
    options = body.get("options") or {}
    top = options.get("$top")
    if top is not None and (not isinstance(top, int) or not 1 <= top <= MAX_TOP):
        raise _bad_request(f"options.$top must be between 1 and {MAX_TOP}, got {top!r}.", "InvalidTop")
    skip = options.get("$skip") or 0
    if not isinstance(skip, int) or skip < 0:
        raise _bad_request(f"options.$skip must be a non-negative integer, got {skip!r}.", "InvalidSkip")
    page_size = top or MAX_TOP
    offset = decode_skip_token(options.get("$skipToken")) if options.get("$skipToken") else skip
    rows = _run(state, query, body, request.principal if state.knobs.rbac else "")
    page = copy.deepcopy(rows[offset : offset + page_size])
    out: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(page),
        "resultTruncated": "false",
        "data": _table_format(page) if options.get("resultFormat") == "table" else page,
        "facets": [],
    }
    if offset + page_size < len(rows):
        out["$skipToken"] = encode_skip_token(offset + page_size)
    return Response(200, out)
