"""`make bench`: the bot against the naive way and against the bound Azure's limits allow.

For each size (machines; subscriptions grow with it, 200 machines each, 500 at most) a synthetic
estate is generated (every playbook has broken machines in it), and then, each in a fresh
emulator served in its own process with throttling on (ARM's token buckets, Resource Graph's
15 queries per 5 s) and a fixed latency per request:

- **bot**: the real engine and Azure layer, a dry run of every playbook (the read), then the
  apply of that plan;
- **naive**: `tests.bench.baseline`, the community-script shape (one GET and one assignment list
  per machine, one remediation per non-compliant state, waited for one by one), up to
  ``--baseline-up-to`` machines (beyond, it runs for hours: its cost is linear, see 10,000).

Each side runs in its own process, so its peak RSS is its own. Per phase: wall time, requests by
kind (from the emulator's request log), 429s, peak RSS of each process, and the **bound**:

- read: the wait the Resource Graph quota forces on the queries the bot sent
  (``ceil(Q / 15) - 1`` windows of 5 s), or the per-subscription ARM read bucket (250 burst, 25/s)
  if that is longer, plus one round trip;
- apply: the longer of the per-subscription write bucket (200 burst, 10/s) on the writes made and
  the remediation tasks' critical path: each task lasts Evaluating + Running + one phase per batch
  of ``parallelDeployments`` (30, the most Azure allows) deployments, each phase
  ``remediation_polls`` observing polls (the emulator's model) at the poll interval, with up to 100
  tasks at once in a tenant (../shared/azure/docs/remediation-structure.md); and any other write, a
  long-running operation of ``lro_polls`` (2) polls, in a chain of at most two (create, then the
  delete that waits for it); plus one round trip.

    python -m tests.bench.run [--sizes 1000,10000,100000] [--latency-ms 25] [--write]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
MACHINES_PER_SUBSCRIPTION = 200
MAX_SUBSCRIPTIONS = 500
# Resource Graph: 15 queries per 5-second window per principal; ARM: reads 250 burst, 25/s; writes
# 200 burst, 10/s, per subscription and principal (DESIGN.md 4, the emulator's knobs).
GRAPH_QUOTA, GRAPH_WINDOW_S = 15, 5.0
READ_BURST, READS_PER_S = 250, 25.0
WRITE_BURST, WRITES_PER_S = 200, 10.0
# Remediation tasks: up to 100 at once in a tenant, up to 30 parallel deployments each.
TASKS_AT_ONCE, MAX_PARALLEL_DEPLOYMENTS = 100, 30
REMEDIATION_POLLS_PER_PHASE = 1
# Every other write is a long-running operation the emulator finishes after 2 polls (its lro_polls
# knob); the longest chain a plan holds is a create followed by a delete that depends on it.
LRO_POLLS, LONGEST_CHAIN = 2, 2


@dataclass
class Phase:
    wall_s: float
    bound_s: float
    side: dict[str, Any]
    emulator: dict[str, Any]

    @property
    def ratio(self) -> float:
        return self.wall_s / self.bound_s if self.bound_s else math.inf


@dataclass
class Sample:
    machines: int
    subscriptions: int
    generate_s: float
    phases: dict[str, Phase] = field(default_factory=dict)  # "bot read", "naive apply", ...


def subscriptions_for(machines: int) -> int:
    return min(MAX_SUBSCRIPTIONS, max(1, math.ceil(machines / MACHINES_PER_SUBSCRIPTION)))


def _line(stream: IO[str] | None) -> dict[str, Any]:
    assert stream is not None
    text = stream.readline()
    if not text:
        raise RuntimeError("a benchmark process ended early (see its stderr above)")
    doc: dict[str, Any] = json.loads(text)
    return doc


class Server:
    """`tests.bench.serve` in its own process: the emulator, steered over stdin."""

    def __init__(self, estate: Path, latency_ms: float) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "tests.bench.serve", str(estate), "--latency-ms", str(latency_ms), "--throttling"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.env: dict[str, str] = _line(self.process.stdout)["env"]

    def command(self, name: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(name + "\n")
        self.process.stdin.flush()
        return _line(self.process.stdout)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=120)


@contextmanager
def served(estate: Path, latency_ms: float) -> Iterator[Server]:
    server = Server(estate, latency_ms)
    try:
        yield server
    finally:
        server.close()


def read_bound(emulator: dict[str, Any], latency_s: float) -> float:
    queries = int(emulator["graph_queries"])
    quota = max(0, math.ceil(queries / GRAPH_QUOTA) - 1) * GRAPH_WINDOW_S
    buckets = max(0.0, (int(emulator["max_reads_per_subscription"]) - READ_BURST) / READS_PER_S)
    return max(quota, buckets) + latency_s


def apply_bound(emulator: dict[str, Any], task_targets: list[int], poll_s: float, latency_s: float) -> float:
    writes = max(0.0, (int(emulator["max_writes_per_subscription"]) - WRITE_BURST) / WRITES_PER_S)
    phases = [2 + math.ceil(max(1, n) / MAX_PARALLEL_DEPLOYMENTS) for n in task_targets]
    durations = [p * REMEDIATION_POLLS_PER_PHASE * poll_s for p in phases]
    tasks = max(max(durations, default=0.0), sum(durations) / TASKS_AT_ONCE)
    operations = LRO_POLLS * LONGEST_CHAIN * poll_s if emulator["max_writes_per_subscription"] else 0.0
    return max(writes, tasks, operations) + latency_s


Doc = dict[str, Any]


def run_side(side: str, estate: Path, latency_ms: float, poll_s: float) -> tuple[Doc, Doc, Doc, Doc]:
    """(side's read, emulator during read, side's apply, emulator during apply)."""
    with served(estate, latency_ms) as server:
        server.command("reset")  # loading the estate is not part of either phase's peak
        process = subprocess.Popen(
            [PYTHON, "-m", "tests.bench.side", side, "--poll", str(poll_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **server.env},
        )
        try:
            read = _line(process.stdout)
            emulator_read = server.command("stats")
            server.command("reset")
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
            applied = _line(process.stdout)
            emulator_apply = server.command("stats")
        finally:
            process.wait(timeout=600)
    return read, emulator_read, applied, emulator_apply


def measure(machines: int, workdir: Path, latency_ms: float, poll_s: float, baseline_up_to: int) -> Sample:
    subscriptions = subscriptions_for(machines)
    estate = workdir / f"estate-{machines}.json"
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-c", "from remediator.cli import main; main()", "emulator", "generate", "--machines",
         str(machines), "--subscriptions", str(subscriptions), "--seed", "1", "--out", str(estate)],
        check=True, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    sample = Sample(machines, subscriptions, time.perf_counter() - started)
    latency_s = latency_ms / 1000
    sides = ["bot"] + (["naive"] if machines <= baseline_up_to else [])
    targets: list[int] = []
    for side in sides:
        read, emulator_read, applied, emulator_apply = run_side(side, estate, latency_ms, poll_s)
        if side == "bot":
            targets = list(read.get("remediation_targets", []))
            bound = apply_bound(emulator_apply, targets, poll_s, latency_s)
        else:
            # The naive side remediates one state per task: its bound is its own tasks' path.
            bound = apply_bound(emulator_apply, [1] * int(read["non_compliant"]), poll_s, latency_s)
        sample.phases[f"{side} read"] = Phase(read["wall_s"], read_bound(emulator_read, latency_s), read, emulator_read)
        sample.phases[f"{side} apply"] = Phase(applied["wall_s"], bound, applied, emulator_apply)
    estate.unlink()
    return sample


def _mib(value: Any) -> str:
    return f"{float(value):.0f}"


def table(samples: list[Sample]) -> str:
    lines = [
        "| machines | subs | phase | wall s | bound s | wall/bound | requests | RG queries | 429s | 5xx "
        "| side peak RSS MiB | emulator peak RSS MiB | result |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in samples:
        for name, p in s.phases.items():
            e = p.emulator
            if name.endswith("read"):
                keys = ("findings", "changes", "machines", "non_compliant")
                result = ", ".join(f"{k} {p.side[k]:,}" for k in keys if k in p.side)
            else:
                result = ", ".join(f"{k} {v:,}" for k, v in sorted(p.side.get("outcomes", {}).items()))
            lines.append(
                f"| {s.machines:,} | {s.subscriptions} | {name} | {p.wall_s:.1f} | {p.bound_s:.1f} | {p.ratio:.1f} "
                f"| {e['requests']:,} | {e['graph_queries']:,} | {e['throttled']:,} | {e['failed']:,} "
                f"| {_mib(p.side['peak_rss_mb'])} | {_mib(e['peak_rss_mb'])} | {result} |"
            )
    return "\n".join(lines)


def comparisons(samples: list[Sample]) -> str:
    lines = []
    for s in samples:
        for phase in ("read", "apply"):
            bot, naive = s.phases.get(f"bot {phase}"), s.phases.get(f"naive {phase}")
            if bot is None or naive is None:
                continue
            lines.append(
                f"- {s.machines:,} machines, {phase}: baseline/bot wall {naive.wall_s / max(bot.wall_s, 1e-9):.1f}x, "
                f"requests {naive.emulator['requests'] / max(bot.emulator['requests'], 1):.1f}x; "
                f"bot/bound {bot.ratio:.1f}x"
            )
    return "\n".join(lines)


def kinds(samples: list[Sample]) -> str:
    lines = []
    for s in samples:
        for name, p in s.phases.items():
            top = ", ".join(f"{k} {v:,}" for k, v in list(p.emulator["by_kind"].items())[:8])
            lines.append(f"- {s.machines:,} {name}: {top}")
    return "\n".join(lines)


def machine_line() -> str:
    model = platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"nproc {os.cpu_count()}, {model}, {mem_kb / 1024 / 1024:.0f} GiB, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default=os.environ.get("SIZES") or "1000,10000,100000")
    parser.add_argument("--latency-ms", type=float, default=25.0, help="added to every request (default 25)")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between polls of an operation")
    parser.add_argument("--baseline-up-to", type=int, default=10000, help="largest size the naive side runs at")
    parser.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    args = parser.parse_args(argv)
    samples = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in (int(s) for s in args.sizes.split(",") if s.strip()):
            samples.append(measure(size, Path(workdir), args.latency_ms, args.poll, args.baseline_up_to))
            sys.stdout.write(table(samples[-1:]) + "\n")
            sys.stdout.flush()
    report = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine_line()}\n\n"
        f"Latency {args.latency_ms:g} ms a request, throttling on, polls every {args.poll:g} s.\n\n"
        f"{table(samples)}\n\n{comparisons(samples)}\n\nRequests by kind:\n\n{kinds(samples)}\n"
    )
    sys.stdout.write(report)
    if args.write:
        with ROOT.joinpath("BENCHMARKS.md").open("a", encoding="utf-8") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
