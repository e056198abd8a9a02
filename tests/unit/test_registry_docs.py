"""The README's playbook table is the registry's: a playbook added, renamed or switched shows up there."""

from __future__ import annotations

import re
from pathlib import Path

from remediator.playbook import load_playbooks

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `(?P<id>[a-z0-9-]+)` \| (?P<fix>[^|]+?) \| (?P<title>[^|]+?) \|$")


def _readme_rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows[match["id"]] = (match["fix"], match["title"])
    return rows


def test_the_readme_lists_every_registered_playbook_with_its_fix_and_title() -> None:
    expected = {
        pb.id: ("report only" if pb.report_only else "on" if pb.fix_default else "opt-in", pb.title)
        for pb in load_playbooks().all()
    }
    assert expected, "no playbook registered"
    assert _readme_rows() == expected
