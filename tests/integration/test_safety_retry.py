"""One retry policy, as documented (issue 13, defect 6): azure-core's RetryPolicy for 408/429/5xx with
the configured total for every kind of retry; a 429 without Retry-After backs off on every method
(POST included); a Resource Graph 429 is paced, not fatal. Real SDK clients against the emulator."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.azure import ApplySettings
from remediator.errors import AzureAccessError
from remediator.model import Scope
from remediator.playbook import Needs
from tests.integration.test_azure_register_provider import SUB, estate, register_change, register_posts, served

__all__ = ["served"]

SETTINGS = ApplySettings(
    provider_registration_timeout=30.0,
    provider_poll_interval=0.02,
    http_retry_total=10,
    http_retry_backoff_factor=0.001,
)


def _fault(**fields: Any) -> dict[str, Any]:
    return {"code": "Injected", **fields}


def test_a_429_without_retry_after_on_a_post_is_retried(served: Any) -> None:
    fault = _fault(route="/register", method="POST", status=429, retryAfter=-1, count=3)
    emu, backend = served(estate({"Microsoft.Compute": "NotRegistered"}, faults=[fault]), SETTINGS)
    backend.execute(register_change("NotRegistered"))
    assert emu.provider_state(SUB, "Microsoft.Compute") == "Registered"
    assert len(register_posts(emu)) == 4  # three throttled, the fourth taken


def test_the_configured_total_holds_for_bad_statuses_too(served: Any) -> None:
    # azure-core's own default retries a bad status 3 times whatever retry_total says; the settings say 10.
    fault = _fault(route="get_provider", method="GET", status=503, count=6)
    emu, backend = served(estate({"Microsoft.Compute": "NotRegistered"}, faults=[fault]), SETTINGS)
    assert emu.provider_state(SUB, "Microsoft.Compute") == "NotRegistered"
    assert backend.read_state(register_change("NotRegistered")) == {"registrationState": "NotRegistered"}


def test_a_resource_graph_429_is_paced_not_fatal(served: Any) -> None:
    fault = _fault(route="resource_graph_query", status=429, retryAfter=-1, count=2)
    emu, backend = served(estate({"Microsoft.Compute": "NotRegistered"}, faults=[fault]), SETTINGS)
    read = backend.read_estate(
        Scope(subscriptions=(SUB,)), Needs(resource_types=frozenset({"Microsoft.HybridCompute/machines"})), None
    )
    assert [s.subscription_id for s in read.subscriptions] == [SUB]
    graph = [e for e in emu.request_log if "microsoft.resourcegraph" in e.path.lower()]
    assert len(graph) >= 3  # two refused, then answered


def test_a_listing_whose_next_link_never_ends_stops_with_a_clear_error(served: Any) -> None:
    doc = estate({})
    doc["subscriptions"] = [
        {"subscriptionId": f"00000000-0000-0000-0000-0000000000{i:02d}", "displayName": f"s{i}"} for i in range(10, 16)
    ]
    doc["emulator"] = {"pageSize": 1}
    _emu, backend = served(doc, ApplySettings(max_pages=3, http_retry_backoff_factor=0.001))
    with pytest.raises(AzureAccessError, match=r"still paging after 3 pages \(nextLink never ends\)"):
        list(backend.clients.subscriptions().subscriptions.list())
    _emu, roomy = served(doc, ApplySettings(max_pages=10, http_retry_backoff_factor=0.001))
    assert len(list(roomy.clients.subscriptions().subscriptions.list())) == 6
