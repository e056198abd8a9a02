"""Bulk reads through Azure Resource Graph: one query per table, paged, within the user quota.

Every query has exactly one shape (the emulator implements this KQL subset, and Resource Graph
answers it fast because it is a plain filter and projection)::

    <table> | where type in~ ('t1', 't2') | project id, name, type, ...

Rows come back as Resource Graph returns them (lowercase ``type``), untouched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.resourcegraph.models import QueryRequest, QueryRequestOptions

from .. import progress
from ..errors import AzureAccessError, UsageError
from .arm_errors import read_errors
from .clients import ArmClients

PROJECTION = (
    "id, name, type, location, tags, identity, properties, kind, managedBy, sku, zones, "
    "resourceGroup, subscriptionId, tenantId"
)

# Resource Graph tables by exact (lowercase) type; anything not listed lives in `resources`.
_TABLE_BY_TYPE: Mapping[str, str] = {
    "microsoft.resources/subscriptions": "resourcecontainers",
    "microsoft.resources/subscriptions/resourcegroups": "resourcecontainers",
    "microsoft.management/managementgroups": "resourcecontainers",
    "microsoft.maintenance/configurationassignments": "maintenanceresources",
    "microsoft.maintenance/applyupdates": "maintenanceresources",
    "microsoft.authorization/policyassignments": "policyresources",
    "microsoft.authorization/policydefinitions": "policyresources",
    "microsoft.authorization/policysetdefinitions": "policyresources",
    "microsoft.authorization/policyexemptions": "policyresources",
    "microsoft.policyinsights/policystates": "policyresources",
    "microsoft.authorization/roleassignments": "authorizationresources",
    "microsoft.authorization/roledefinitions": "authorizationresources",
}
# Patch results are child types of VMs and Arc machines (and their softwarepatches children).
_TABLE_BY_SEGMENT: tuple[tuple[str, str], ...] = (
    ("/patchassessmentresults", "patchassessmentresources"),
    ("/patchinstallationresults", "patchinstallationresources"),
)
# Types that live above subscriptions: a subscription-scoped query never returns them, and the
# playbooks need the whole hierarchy (a role held at a parent group covers every child).
TENANT_LEVEL_TYPES = frozenset({"microsoft.management/managementgroups"})
# Types Resource Graph has no table for (its table reference lists none for them): the inventory
# reads these through their own ARM list operations instead.
NOT_IN_RESOURCE_GRAPH = frozenset({"microsoft.policyinsights/remediations"})
# Resource Graph accepts at most this many subscriptions in one request.
MAX_SUBSCRIPTIONS_PER_QUERY = 1000
_QUOTA_RESET = re.compile(r"^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$")


def table_for(resource_type: str) -> str:
    key = resource_type.lower()
    if key in _TABLE_BY_TYPE:
        return _TABLE_BY_TYPE[key]
    for segment, table in _TABLE_BY_SEGMENT:
        if segment in key:
            return table
    return "resources"


def group_by_table(resource_types: Iterable[str]) -> dict[str, tuple[str, ...]]:
    tables: dict[str, set[str]] = {}
    for resource_type in resource_types:
        if resource_type.lower() in NOT_IN_RESOURCE_GRAPH:
            continue
        tables.setdefault(table_for(resource_type), set()).add(resource_type.lower())
    return {table: tuple(sorted(types)) for table, types in sorted(tables.items())}


def build_query(table: str, types: Sequence[str]) -> str:
    quoted = ", ".join("'" + t.lower().replace("'", "") + "'" for t in types)
    return f"{table} | where type in~ ({quoted}) | project {PROJECTION}"


# Playbooks act only on non-compliant states; a landing zone holds tens of millions of the others
# (every policy, every resource), so the filter runs in Resource Graph, not here.
NON_COMPLIANT_POLICY_STATES = (
    "policyresources | where type =~ 'microsoft.policyinsights/policystates' "
    f"| where properties.complianceState =~ 'NonCompliant' | project {PROJECTION}"
)


def quota_wait_seconds(headers: Mapping[str, str], max_wait: float) -> float:
    """Seconds to wait before the next query: 0 unless the quota is spent.

    ``x-ms-user-quota-resets-after`` is a .NET TimeSpan (``hh:mm:ss``, optionally ``d.hh:mm:ss``).
    """
    remaining = headers.get("x-ms-user-quota-remaining")
    if remaining is None or not remaining.strip().lstrip("-").isdigit() or int(remaining) > 0:
        return 0.0
    match = _QUOTA_RESET.match((headers.get("x-ms-user-quota-resets-after") or "").strip())
    if not match:
        return min(1.0, max_wait)
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    return min(total, max_wait)


class ScopeTooLarge(UsageError):
    """Resource Graph will not query this tenant or management group in one scope."""


def _refuse_partial_scope(error: HttpResponseError, target: Mapping[str, Any]) -> None:
    """A tenant or management group too large for one query: a UsageError that says what to do.

    Resource Graph answers 400 ``TooManySubscriptionsUnderScope`` when a tenant or management
    group query covers more subscriptions than it serves at once, unless ``allowPartialScopes``
    is set, when it silently answers for some of them (2021-03-01 spec; the error as quoted in
    Azure/cosmos-explorer issue 1986). The bot never asks for partial answers: a machine missing
    from a read looks deleted or moved, and a fix planned on that would be wrong. Subscription
    lists are always sent in batches of 1000 (MAX_SUBSCRIPTIONS_PER_QUERY); what stays tenant-wide
    (management groups, moved-machine lookups) cannot be split by subscription without losing rows.
    """
    details = getattr(getattr(error, "error", None), "details", None) or []
    codes = {str(getattr(d, "code", "") or "") for d in details}
    if "TooManySubscriptionsUnderScope" not in codes and "TooManySubscriptionsUnderScope" not in str(error):
        return
    where = f"management group {target['management_groups'][0]}" if target.get("management_groups") else "the tenant"
    raise ScopeTooLarge(
        f"Resource Graph refuses to query {where} at once (TooManySubscriptionsUnderScope: more subscriptions than "
        "one query may cover), and a partial answer could make present machines look deleted; nothing was changed"
    ) from None


@dataclass(frozen=True)
class GraphScope:
    """Subscriptions, one management group, or (``tenant``) everything the principal can read."""

    subscriptions: tuple[str, ...] = ()
    management_group: str | None = None
    tenant: bool = False

    def requests(self) -> Iterator[dict[str, Any]]:
        if self.tenant:
            yield {}
            return
        if self.management_group:
            yield {"management_groups": [self.management_group]}
            return
        subs = list(self.subscriptions)
        for start in range(0, len(subs), MAX_SUBSCRIPTIONS_PER_QUERY):
            yield {"subscriptions": subs[start : start + MAX_SUBSCRIPTIONS_PER_QUERY]}


class GraphReader:
    """Runs queries for one inventory pass, keeping to the per-principal Resource Graph quota.

    When a response says the quota is spent, the next query (not this one's caller) waits for
    the announced reset: Resource Graph would refuse it with 429, and a known refusal is not worth
    a retry and its backoff. The last query of a pass leaves without waiting.
    """

    def __init__(self, clients: ArmClients) -> None:
        self.clients = clients
        self._resume_at = 0.0

    def _wait_for_quota(self) -> None:
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            # Paced, not fatal: wait for the announced reset (bounded by the run's deadline).
            control = self.clients.settings.control
            control.sleep(min(delay, control.remaining()), "Resource Graph quota")

    @staticmethod
    def _send(graph: Any, request: QueryRequest) -> tuple[dict[str, Any], Mapping[str, str]]:
        """POST the query through the client's own pipeline (auth, retry) and keep the raw JSON.

        The generated ``resources()`` deserializes every row into msrest objects first, which
        costs more than the query itself at 100,000 machines; rows are plain JSON objects
        (``objectArray``), so the JSON is all the inventory needs. Headers carry the quota.
        """
        http_request = HttpRequest(
            "POST",
            "/providers/Microsoft.ResourceGraph/resources",
            params={"api-version": graph._config.api_version},
            json=request.serialize(),
        )
        # Generated clients name it send_request or (this package) _send_request: same pipeline.
        send = getattr(graph, "send_request", None) or graph._send_request
        # stream=True keeps ContentDecodePolicy from parsing the body a second time.
        response = send(http_request, stream=True)
        response.read()
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        page = response.json()
        return (page if isinstance(page, dict) else {}), response.headers

    def rows(self, scope: GraphScope, query: str) -> list[dict[str, Any]]:
        """All rows of ``query`` over ``scope``, following ``$skipToken``."""
        return list(self.stream(scope, query))

    def stream(self, scope: GraphScope, query: str) -> Iterator[dict[str, Any]]:
        """The rows of ``query`` over ``scope`` page by page, so a caller can index each page and
        let it go before the next arrives (at 100,000 machines the pages outweigh the estate)."""
        settings = self.clients.settings
        graph = self.clients.resource_graph()
        read = 0  # rows so far, for the progress line
        for target in scope.requests():
            skip_token: str | None = None
            for _page in range(settings.max_pages):
                options = QueryRequestOptions(
                    top=settings.resource_graph_page_size, skip_token=skip_token, result_format="objectArray"
                )
                request = QueryRequest(query=query, options=options, **target)
                self._wait_for_quota()
                with read_errors():
                    try:
                        page, headers = self._send(graph, request)
                    except HttpResponseError as error:
                        _refuse_partial_scope(error, target)
                        raise
                wait = quota_wait_seconds(
                    {k.lower(): v for k, v in headers.items()}, settings.resource_graph_quota_max_wait
                )
                self._resume_at = time.monotonic() + wait
                skip_token = page.get("$skipToken")
                rows = page.get("data") or []
                total = page.get("totalRecords")
                del page
                read += len(rows)
                progress.report("inventory", read, total if isinstance(total, int) else None, "rows")
                yield from (row for row in rows if isinstance(row, dict))
                if not skip_token:
                    break
            else:
                # A $skipToken that never ends (a broken or hostile endpoint) must not hold the run.
                raise AzureAccessError(f"Resource Graph: still paging after {settings.max_pages} pages; giving up")
