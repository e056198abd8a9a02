"""Progress off a terminal: periodic plain lines through logging, silence for short phases."""

from __future__ import annotations

import logging

import pytest

from remediator import progress
from remediator.report.progress import PlainLines, showing_progress


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "remediator.progress"]


def test_a_long_phase_reports_as_it_goes_and_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="remediator.progress")
    sink = PlainLines(every=0.0)  # every event is "10 seconds later"
    for done in (0, 500, 1000):
        sink("apply", done, 1000, "changes")
    assert _lines(caplog) == ["apply: 0/1000 changes", "apply: 500/1000 changes", "apply: 1000/1000 changes"]


def test_a_short_phase_stays_silent(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="remediator.progress")
    sink = PlainLines(every=3600.0)
    for done in (0, 3, 4):
        sink("inventory", done, 4, "rows")
    assert _lines(caplog) == []


def test_the_sink_is_installed_for_the_command_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="remediator.progress")
    with showing_progress("plain"):
        assert progress._sink is not None
    assert progress._sink is None
    with showing_progress("off"):
        assert progress._sink is None
