"""Knobs: ARM throttling buckets, the Resource Graph quota, fault injection, latency, the request log."""

from __future__ import annotations

import pytest
import requests

TENANT = "aaaaaaaa-0000-4000-8000-000000000005"
SUB = "abababab-0000-4000-8000-000000000001"
SUB2 = "abababab-0000-4000-8000-000000000002"
PROVIDER = f"/subscriptions/{SUB}/providers/Microsoft.Compute"
RESOURCES = {"api-version": "2025-04-01"}
GRAPH = "/providers/Microsoft.ResourceGraph/resources"


def estate(**knobs) -> dict:
    doc = {"tenantId": TENANT, "subscriptions": [{"subscriptionId": SUB}, {"subscriptionId": SUB2}]}
    if knobs:
        doc["emulator"] = knobs
    return doc


def test_arm_reads_and_writes_have_separate_token_buckets_per_subscription(emulator_factory):
    served = emulator_factory(
        estate(throttling=True, readsBurst=3, readsPerSecond=0.001, writesBurst=2, writesPerSecond=0.001)
    )
    reads = [served.arm("GET", PROVIDER, params=RESOURCES) for _ in range(4)]
    other_subscription = served.arm("GET", f"/subscriptions/{SUB2}/providers/Microsoft.Compute", params=RESOURCES)
    writes = [served.arm("POST", f"{PROVIDER}/register", params=RESOURCES) for _ in range(3)]

    assert [r.status_code for r in reads] == [200, 200, 200, 429]
    assert [r.headers["x-ms-ratelimit-remaining-subscription-reads"] for r in reads] == ["2", "1", "0", "0"]
    assert reads[3].json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert int(reads[3].headers["Retry-After"]) >= 1
    assert other_subscription.status_code == 200
    assert [w.status_code for w in writes] == [200, 200, 429]
    assert writes[0].headers["x-ms-ratelimit-remaining-subscription-writes"] == "1"


def test_default_buckets_are_azures_numbers(emulator_factory):
    served = emulator_factory(estate(throttling=True))
    read = served.arm("GET", PROVIDER, params=RESOURCES)
    write = served.arm("POST", f"{PROVIDER}/register", params=RESOURCES)
    assert int(read.headers["x-ms-ratelimit-remaining-subscription-reads"]) in (248, 249)  # 250 burst
    assert int(write.headers["x-ms-ratelimit-remaining-subscription-writes"]) in (198, 199)  # 200 burst


def test_resource_graph_quota_per_principal_with_its_headers(emulator_factory):
    served = emulator_factory(estate(throttling=True, graphQuota=2, graphQuotaWindowSeconds=60))
    answers = [
        served.arm("POST", GRAPH, params={"api-version": "2021-03-01"}, json={"query": "resources"}) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ms-user-quota-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[0].headers["x-ms-user-quota-resets-after"].count(":") == 2
    assert answers[2].json()["error"]["code"] == "RateLimiting"
    assert int(answers[2].headers["Retry-After"]) >= 1


def test_fault_with_a_count_fails_then_recovers(emulator_factory):
    served = emulator_factory(
        estate(faults=[{"route": "get_provider", "status": 503, "code": "ServerBusy", "count": 2}])
    )
    statuses = [served.arm("GET", PROVIDER, params=RESOURCES).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert [e.status for e in served.emulator.request_log if e.route == "get_provider"] == [503, 503, 200]


def test_fault_by_path_and_method_only_hits_matching_requests(emulator_factory):
    served = emulator_factory(
        estate(faults=[{"route": "/register", "method": "POST", "status": 409, "code": "Conflict"}])
    )
    assert served.arm("GET", PROVIDER, params=RESOURCES).status_code == 200
    refused = served.arm("POST", f"{PROVIDER}/register", params=RESOURCES)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "Conflict"


def test_dropped_connection_fault(emulator_factory):
    served = emulator_factory(estate(faults=[{"route": "get_provider", "drop": True, "count": 1}]))
    with pytest.raises(requests.ConnectionError):
        served.arm("GET", PROVIDER, params=RESOURCES)
    assert served.arm("GET", PROVIDER, params=RESOURCES).status_code == 200


def test_fault_rate_is_seeded_and_partial(emulator_factory):
    knobs = {"seed": 7, "faults": [{"route": "get_provider", "status": 500, "rate": 0.5}]}
    first = emulator_factory(estate(**knobs))
    second = emulator_factory(estate(**knobs))
    runs = [[s.arm("GET", PROVIDER, params=RESOURCES).status_code for _ in range(30)] for s in (first, second)]
    assert runs[0] == runs[1]
    assert set(runs[0]) == {200, 500}


def test_latency_knob_and_the_request_log(emulator_factory):
    served = emulator_factory(estate(latencyMs=20))
    served.arm("GET", PROVIDER, params=RESOURCES)
    entry = next(e for e in served.emulator.request_log if e.route == "get_provider")
    assert (entry.method, entry.path, entry.status, entry.api_version) == ("GET", PROVIDER, 200, "2025-04-01")
    assert entry.principal == served.emulator.principal_id
    assert entry.duration > 0
    assert served.emulator.state.knobs.latency_ms == 20
