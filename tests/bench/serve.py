"""The emulator in its own process for `make bench`, steered over stdin.

    python -m tests.bench.serve ESTATE [--latency-ms N] [--throttling]

Prints one JSON line ``{"env": {...}}`` (what points a client at it), then answers commands read
from stdin, one per line, each with one JSON line: ``stats`` (requests by kind, 429s, writes and
reads per subscription, Resource Graph queries, this process's peak RSS since the last reset),
``reset`` (forget the request log and the peak RSS, so the next phase is measured alone).
End of input stops it. The request log keeps no response bodies, so it stays small.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from remediator.emulator import Emulator
from remediator.emulator.state import LogEntry
from tests.bench.procstat import peak_rss_mb, reset_peak_rss

GRAPH_PATH = "/providers/microsoft.resourcegraph/resources"
WRITES = {"PUT", "PATCH", "DELETE", "POST"}
MACHINE_TYPES = ("microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines")


def kind_of(entry: LogEntry) -> str:
    """What a request was, in the words of the benchmark's table."""
    path = entry.path.lower()
    if path.endswith(GRAPH_PATH):
        return "resource graph query"
    if "/providers/microsoft.policyinsights/remediations" in path:
        return f"{entry.method} remediation"
    if "/providers/microsoft.policyinsights/policystates" in path:
        return "list policy states"
    if "/providers/microsoft.maintenance/configurationassignments" in path:
        return f"{entry.method} configuration assignment"
    if "/extensions/" in path:
        return f"{entry.method} extension"
    if "/operations/" in path or "operationstatuses" in path or "asyncoperations" in path:
        return "poll operation"
    if path.rstrip("/").endswith("/resources") or path.endswith("/subscriptions"):
        return "list resources"
    if any(f"/providers/{t}/" in path for t in MACHINE_TYPES):
        return f"{entry.method} machine"
    return f"{entry.method} {entry.route or 'other'}"


def subscription_of(path: str) -> str:
    parts = path.lower().split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else "tenant"


def stats(entries: list[LogEntry]) -> dict[str, Any]:
    served = [e for e in entries if e.route != "token-authority"]
    arm = [e for e in served if kind_of(e) != "resource graph query"]
    writes = Counter(subscription_of(e.path) for e in arm if e.method in WRITES)
    reads = Counter(subscription_of(e.path) for e in served if e.method in ("GET", "HEAD"))
    return {
        "requests": len(served),
        "by_kind": dict(Counter(kind_of(e) for e in served).most_common()),
        "throttled": sum(1 for e in served if e.status == 429),
        "failed": sum(1 for e in served if e.status >= 500 or e.status == 0),
        "graph_queries": sum(1 for e in served if kind_of(e) == "resource graph query" and e.status == 200),
        "max_writes_per_subscription": max(writes.values(), default=0),
        "max_reads_per_subscription": max(reads.values(), default=0),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("estate")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--throttling", action="store_true")
    args = parser.parse_args(argv)
    emulator = Emulator.load(
        args.estate, latency_ms=args.latency_ms, throttling=args.throttling, log_response_body_bytes=0
    )
    with emulator.serve(port=0) as endpoint:
        sys.stdout.write(json.dumps({"env": endpoint.env(), "peak_rss_mb": peak_rss_mb()}) + "\n")
        sys.stdout.flush()
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                sys.stdout.write(json.dumps(stats(emulator.request_log)) + "\n")
            elif command == "reset":
                with emulator.state.lock:
                    emulator.state.request_log.clear()
                reset_peak_rss()
                sys.stdout.write("{}\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
