"""An estate's own ``now`` is the bot's clock for ``--estate`` runs (DESIGN.md 3.3), with ``--now`` above it.

Before this, ``--estate`` runs read the wall clock: the time-based playbooks' findings changed with the
day the suite ran, and a plan made from the file differed from the same plan made with ``--now``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from tests.cli_runner import run_cli
from tests.data.maintenance.estates import NOW
from tests.data.maintenance.fleet import fleet

SETTINGS = (
    "playbooks:\n"
    "  powered-off-machines: {fix: true, options: {start_within_hours: 24}}\n"
    "  maintenance-window: {fix: true}\n"
)
TIME_BASED = {"powered-off-machines", "schedule-conflicts", "recreated-machine"}


def _dry_run(tmp_path: Path, *extra: str) -> dict[str, Any]:
    estate_file = tmp_path / "fleet.json"
    estate_file.write_text(json.dumps(fleet()))
    settings = tmp_path / "remediator.yaml"
    settings.write_text(SETTINGS)
    result = run_cli(
        ["run", "--dry-run", "--estate", str(estate_file), "--config", str(settings), "--format", "json", *extra]
    )
    assert result.code == 2, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _plan(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return doc["findings"], doc["changes"]


def test_a_plan_from_the_estate_clock_equals_the_plan_with_now_set_to_it(tmp_path: Path) -> None:
    from_file = _dry_run(tmp_path)
    with_flag = _dry_run(tmp_path, "--now", NOW)
    assert _plan(from_file) == _plan(with_flag)
    # Not vacuous: the fleet holds findings that only exist at the estate's time.
    assert TIME_BASED & set(from_file["summary"]["by_playbook"])


def test_now_overrides_the_estate_clock(tmp_path: Path) -> None:
    """A month later the windows the fleet's findings are about have passed: the plan is another one."""
    from_file = _dry_run(tmp_path)
    later = _dry_run(tmp_path, "--now", "2026-12-26T09:00:00Z")
    assert _plan(later) != _plan(from_file)
    powered_off = [f for f in from_file["findings"] if f["playbook"] == "powered-off-machines"]
    assert powered_off, "the estate's own clock finds the machine that is off when its window opens"


@pytest.mark.parametrize(
    "wall_clock",
    [
        "2028-02-29T23:59:58+00:00",  # a leap day, turning into March while the run goes on
        "2027-03-28T00:59:59+00:00",  # one second before Europe's clocks go forward
        "2031-10-26T00:59:59+00:00",  # one second before they go back, five years on
    ],
)
def test_the_wall_clock_does_not_change_an_estate_plan(tmp_path: Path, wall_clock: str) -> None:
    expected = _plan(_dry_run(tmp_path, "--now", NOW))
    with time_machine.travel(datetime.fromisoformat(wall_clock), tick=True):
        assert _plan(_dry_run(tmp_path)) == expected
