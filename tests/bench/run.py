"""`make bench`: how long and how much memory a dry run takes as the estate grows.

For each size: generate a synthetic estate (every playbook has broken machines in it), load it
into the emulator, serve it over HTTPS, and run the real engine and Azure layer through a full
dry run of every playbook. Reports wall time per phase, requests sent (by kind), and peak RSS of
this process (bot + in-process emulator together; the emulator's share is measured separately at
load time). Numbers go to stdout and, with --write, into BENCHMARKS.md.

    python -m tests.bench.run [--sizes 1000,10000] [--subscriptions 20] [--write]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from remediator import Scope
from remediator.emulator import Emulator
from remediator.emulator.generate import generate_estate
from remediator.engine import Engine, PlaybookRun
from remediator.playbook import load_playbooks
from tests.playbook_harness import FAST, AzureBackend

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Sample:
    machines: int
    subscriptions: int
    generate_s: float
    load_s: float
    plan_s: float
    findings: int
    changes: int
    requests: Counter[str]
    peak_rss_mb: float


def _rss_mb() -> float:
    # ru_maxrss is KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _kind(path: str) -> str:
    p = path.lower()
    if "resourcegraph" in p:
        return "resource-graph"
    if "/providers/microsoft.compute" in p and p.count("/") <= 5:
        return "providers"
    if "oauth2" in p or "openid" in p or "token" in p:
        return "auth"
    return "arm-other"


def measure(machines: int, subscriptions: int) -> Sample:
    t0 = time.perf_counter()
    estate = generate_estate(machines=machines, subscriptions=subscriptions, seed=1)
    t1 = time.perf_counter()
    emulator = Emulator.load(estate)
    del estate
    gc.collect()
    t2 = time.perf_counter()
    runs = [PlaybookRun(pb) for pb in load_playbooks().all()]
    with emulator.serve(port=0) as endpoint:
        backend = AzureBackend.for_endpoint(endpoint, FAST)
        try:
            result = Engine(backend, runs).plan(Scope(), datetime(2026, 11, 26, 9, tzinfo=UTC))
        finally:
            backend.close()
    t3 = time.perf_counter()
    kinds = Counter(_kind(e.path) for e in emulator.request_log)
    return Sample(
        machines,
        subscriptions,
        t1 - t0,
        t2 - t1,
        t3 - t2,
        len(result.plan.findings),
        len(result.plan.changes),
        kinds,
        _rss_mb(),
    )


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB, Python {platform.python_version()}"


def table(samples: list[Sample]) -> str:
    lines = [
        "| machines | subscriptions | generate s | emulator load s | dry run s | findings | changes "
        "| Resource Graph requests | other ARM requests | peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        lines.append(
            f"| {s.machines:,} | {s.subscriptions} | {s.generate_s:.1f} | {s.load_s:.1f} | {s.plan_s:.1f} "
            f"| {s.findings:,} | {s.changes:,} | {s.requests['resource-graph']} "
            f"| {s.requests['arm-other'] + s.requests['providers']} | {s.peak_rss_mb:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    args = parser.parse_args(argv)
    samples = []
    for size in (int(s) for s in args.sizes.split(",")):
        samples.append(measure(size, args.subscriptions))
        sys.stdout.write(table(samples[-1:]) + "\n")
        sys.stdout.flush()
    report = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine_line()}\n\n{table(samples)}\n"
        "\nPeak RSS is the whole process (bot and in-process emulator) and only grows between sizes.\n"
    )
    sys.stdout.write(report)
    if args.write:
        with ROOT.joinpath("BENCHMARKS.md").open("a", encoding="utf-8") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
