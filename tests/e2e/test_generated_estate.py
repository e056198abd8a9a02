"""Every playbook at once on a generated estate it has never seen: a real run converges.

The generator puts broken machines for every playbook side by side (and healthy ones), so fixes
interact: a policy remediation gives a restored VM the osProfile that schedule-prerequisites then
sets. `run` must end with nothing left to fix, and every change it made must have applied.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediator.emulator.generate import generate_estate
from tests.cli_runner import run_cli


@pytest.mark.parametrize("seed", [3, 11])
def test_a_run_on_a_generated_estate_converges(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(generate_estate(machines=240, subscriptions=4, seed=seed)))
    dry = run_cli(["run", "--dry-run", "--estate", str(path), "--format", "json"])
    assert dry.code == 2, dry.stderr
    planned = json.loads(dry.stdout)
    assert len(planned["summary"]["by_playbook"]) >= 6
    result = run_cli(["run", "--estate", str(path), "--format", "json"])
    assert result.code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    assert doc["plan_after_apply"]["changes"] == []
    # Everything the dry run planned was applied (later rounds may add what fixes revealed).
    assert {c["id"] for c in planned["changes"]} <= {c["id"] for c in doc["changes"]}
