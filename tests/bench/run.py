"""`make bench`: how long and how much memory a dry run takes as the estate grows.

For each size: generate a synthetic estate (every playbook has broken machines in it), load it
into the emulator, serve it over HTTPS, and run the real engine and Azure layer through a full
dry run of every playbook. Reports wall time per phase and the peak RSS of the bot and of the
emulator, each in its own process (the estate is generated in a third). Numbers go to stdout and,
with --write, into BENCHMARKS.md.

    python -m tests.bench.run [--sizes 1000,10000] [--subscriptions 20] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from azure.identity import ClientSecretCredential

from remediator import Scope
from remediator.azure import ArmSession
from remediator.engine import Engine, PlaybookRun
from remediator.playbook import load_playbooks
from tests.playbook_harness import FAST, AzureBackend

ROOT = Path(__file__).resolve().parents[2]
REMEDIATOR = (sys.executable, "-c", "from remediator.cli import main; main()")


@dataclass(frozen=True)
class Sample:
    machines: int
    subscriptions: int
    generate_s: float
    emulator_ready_s: float
    plan_s: float
    findings: int
    changes: int
    bot_peak_rss_mb: float
    emulator_peak_rss_mb: float


def _peak_rss_mb(pid: int | None = None) -> float:
    """VmHWM: the peak resident set of a process, from /proc (this one or the emulator's)."""
    with open(f"/proc/{pid or 'self'}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def served(estate_file: Path) -> Iterator[tuple[dict[str, str], int]]:
    """`remediator emulator serve` in its own process, so the bot's memory is measured alone."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from remediator.cli import main; main()",
            "emulator",
            "serve",
            "--estate",
            str(estate_file),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        env: dict[str, str] = {}
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("export "):
                key, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
                env[key] = value
            if line.startswith("press Ctrl+C"):
                break
        if "REMEDIATOR_ARM_ENDPOINT" not in env:
            raise RuntimeError(f"emulator did not start (exit {process.poll()})")
        yield env, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def measure(machines: int, subscriptions: int, workdir: Path, healthy: bool = False) -> Sample:
    t0 = time.perf_counter()
    estate_file = workdir / f"estate-{machines}.json"
    subprocess.run(
        [
            *REMEDIATOR,
            "emulator",
            "generate",
            "--machines",
            str(machines),
            "--subscriptions",
            str(subscriptions),
            "--seed",
            "1",
            "--out",
            str(estate_file),
            *(["--healthy"] if healthy else []),
        ],
        check=True,
        capture_output=True,
    )
    t1 = time.perf_counter()
    runs = [PlaybookRun(pb) for pb in load_playbooks().all()]
    with served(estate_file) as (env, pid):
        t2 = time.perf_counter()
        credential = ClientSecretCredential(
            env["AZURE_TENANT_ID"],
            env["AZURE_CLIENT_ID"],
            env["AZURE_CLIENT_SECRET"],
            authority=env["AZURE_AUTHORITY_HOST"],
            disable_instance_discovery=True,
            connection_verify=env["REMEDIATOR_CA_BUNDLE"],
        )
        session = ArmSession.create(env["REMEDIATOR_ARM_ENDPOINT"], env["REMEDIATOR_CA_BUNDLE"], credential)
        backend = AzureBackend(session, FAST)
        try:
            result = Engine(backend, runs).plan(Scope(), datetime(2026, 11, 26, 9, tzinfo=UTC))
        finally:
            backend.close()
        t3 = time.perf_counter()
        emulator_rss = _peak_rss_mb(pid)
    return Sample(
        machines,
        subscriptions,
        t1 - t0,
        t2 - t1,
        t3 - t2,
        len(result.plan.findings),
        len(result.plan.changes),
        _peak_rss_mb(),
        emulator_rss,
    )


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB, Python {platform.python_version()}"


def table(samples: list[Sample]) -> str:
    lines = [
        "| machines | subscriptions | generate s | emulator start s | bot dry run s | findings | changes "
        "| bot peak RSS MiB | emulator peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        lines.append(
            f"| {s.machines:,} | {s.subscriptions} | {s.generate_s:.1f} | {s.emulator_ready_s:.1f} | {s.plan_s:.1f} "
            f"| {s.findings:,} | {s.changes:,} | {s.bot_peak_rss_mb:.0f} | {s.emulator_peak_rss_mb:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="append the results to BENCHMARKS.md")
    parser.add_argument("--healthy", action="store_true", help="healthy estates only (expect 0 findings)")
    args = parser.parse_args(argv)
    samples = []
    with tempfile.TemporaryDirectory() as workdir:
        for size in (int(s) for s in args.sizes.split(",")):
            samples.append(measure(size, args.subscriptions, Path(workdir), args.healthy))
            sys.stdout.write(table(samples[-1:]) + "\n")
            sys.stdout.flush()
    kind = " — healthy estates (`generate --healthy`)" if args.healthy else ""
    report = (
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine_line()}{kind}\n\n{table(samples)}\n"
        "\nThe emulator runs in its own process (`remediator emulator serve`); the bot's dry run runs every "
        "playbook through the real Azure layer. Bot peak RSS only grows between sizes (one process).\n"
    )
    sys.stdout.write(report)
    if args.write:
        with ROOT.joinpath("BENCHMARKS.md").open("a", encoding="utf-8") as f:
            f.write(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
