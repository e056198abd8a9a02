"""One side of a benchmark run, in its own process so its peak memory is its own.

    python -m tests.bench.side bot|naive --poll SECONDS

Environment: what ``tests.bench.serve`` printed (endpoint, CA, the emulator's service principal).
Prints one JSON line after the read phase, waits for a line on stdin (the driver reads the
emulator's request log in between), then applies and prints a second JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from azure.identity import ClientSecretCredential

from remediator import Scope
from remediator.azure import ArmSession, AzureBackend
from remediator.config import Settings
from remediator.emulator.generate import NOW
from remediator.engine import Engine, PlaybookRun
from remediator.playbook import load_playbooks
from remediator.runtime import apply_settings
from tests.bench.baseline import Naive, NaiveResult
from tests.bench.procstat import peak_rss_mb, reset_peak_rss


def _emit(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps({**doc, "peak_rss_mb": peak_rss_mb()}) + "\n")
    sys.stdout.flush()


def _between_phases() -> None:
    sys.stdin.readline()
    reset_peak_rss()


def bot(env: dict[str, str], credential: ClientSecretCredential, poll: float) -> None:
    session = ArmSession.create(env["REMEDIATOR_ARM_ENDPOINT"], env["REMEDIATOR_CA_BUNDLE"], credential)
    # The settings `--estate` runs use (the emulator's durations are counted in polls), at `poll`.
    backend = AzureBackend(session, apply_settings(Settings(poll_seconds=poll), default_poll=poll))
    engine = Engine(backend, [PlaybookRun(pb) for pb in load_playbooks().all()])
    try:
        started = time.perf_counter()
        result = engine.plan(Scope(), NOW)
        plan = result.plan
        _emit(
            {
                "wall_s": time.perf_counter() - started,
                "findings": len(plan.findings),
                "changes": len(plan.changes),
                "remediation_targets": sorted(
                    len(c.params.get("resource_ids", ())) for c in plan.changes if c.action == "create-remediation"
                ),
                "errors": list(result.errors),
            }
        )
        _between_phases()
        started = time.perf_counter()
        applied = engine.apply(plan)
        statuses: dict[str, int] = {}
        for outcome in applied.outcomes:
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        _emit({"wall_s": time.perf_counter() - started, "outcomes": statuses})
    finally:
        backend.close()


def naive(env: dict[str, str], credential: ClientSecretCredential, poll: float) -> None:
    script = Naive(env["REMEDIATOR_ARM_ENDPOINT"], env["REMEDIATOR_CA_BUNDLE"], credential, poll)
    result = NaiveResult()
    states = script.read(result)
    _emit({"wall_s": result.read_s, "machines": result.machines, "non_compliant": result.non_compliant})
    _between_phases()
    script.remediate(states, result)
    _emit({"wall_s": result.apply_s, "outcomes": result.remediations})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=["bot", "naive"])
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args(argv)
    env = dict(os.environ)
    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=env["REMEDIATOR_CA_BUNDLE"],
    )
    (bot if args.side == "bot" else naive)(env, credential, args.poll)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
