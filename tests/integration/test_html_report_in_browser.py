"""The HTML report in a real headless browser (Debian's chromium): it renders without a console
error, the filters narrow the table, and 100,000 findings still open and filter.

The filters live in the URL fragment, so the test drives them the way a shared link does and
reads the DOM the page's own script produced (``--dump-dom``); chromium's console messages go to
stderr with ``--enable-logging=stderr``, and any of them fails the test.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from remediator import Change, Finding, Plan
from remediator.report import render

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser: install Debian's chromium (apt-get install chromium) to run it"
)
SEVERITIES = ("low", "medium", "high", "critical")
PLAYBOOKS = ("arc-compute-provider", "schedule-prerequisites", "update-extension", "policy-remediation")


def _plan(n: int) -> Plan:
    findings = tuple(
        Finding(
            PLAYBOOKS[i % 4],
            f"/subscriptions/{i % 20:08d}-0000-0000-0000-000000000000/resourceGroups/rg{i % 300}"
            f"/providers/Microsoft.Compute/virtualMachines/vm{i}",
            SEVERITIES[i % 4 if i % 5 else 3],
            f"<b>title</b> {i % 7}",
            f"detail of vm{i}",
            "troubleshoot.md#extension-check-fails",
            i % 3 == 0,
        )
        for i in range(n)
    )
    changes = tuple(
        Change(f.id, f.playbook, f.resource_id, "patch-patch-settings", {"patchMode": "Manual"}, {"patchMode": "X"})
        for f in findings[: min(n, 500)]
        if f.fixable
    )
    return Plan(datetime(2026, 11, 26, tzinfo=UTC), True, {"subscriptions": []}, findings, changes)


def _open(page: Path, fragment: str = "") -> tuple[str, list[str]]:
    assert BROWSER is not None
    done = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri() + fragment,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [line for line in done.stderr.splitlines() if ":CONSOLE" in line]


def _shown(dom: str) -> int:
    match = re.search(r'<span id="shown">(\d+)</span>', dom)
    assert match, "the page did not count its rows"
    return int(match.group(1))


def _rows(dom: str, table: str) -> int:
    body = dom.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return body.count("<tr>") - 1  # less the header row


def test_it_renders_without_console_errors_and_a_filter_narrows_the_table(tmp_path: Path) -> None:
    plan = _plan(400)
    page = tmp_path / "report.html"
    page.write_text(render(plan, "html"), encoding="utf-8")
    dom, console = _open(page)
    assert console == []
    assert _shown(dom) == 400 and _rows(dom, "findings") == 100  # paged, 100 rows at a time
    assert "&lt;b&gt;title&lt;/b&gt;" in dom and "<b>title</b>" not in dom  # text, never markup
    assert "https://learn.microsoft.com/en-us/azure/update-manager/troubleshoot#extension-check-fails" in dom

    expected = sum(1 for f in plan.findings if f.severity == "high" and f.playbook == "update-extension")
    dom, console = _open(page, "#severity=high&playbook=update-extension")
    assert console == []
    assert 0 < _shown(dom) == expected < 400
    assert _rows(dom, "findings") == expected
    assert 'class="sev sev-high"' in dom and 'class="sev sev-low"' not in dom


def test_a_console_error_would_be_seen(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(render(_plan(3), "html").replace('"use strict";', '"use strict"; notDefined();', 1))
    _, console = _open(page)
    assert any("notDefined" in line for line in console)


def test_one_hundred_thousand_findings_open_and_filter(tmp_path: Path) -> None:
    plan = _plan(100_000)
    page = tmp_path / "big.html"
    page.write_text(render(plan, "html"), encoding="utf-8")
    expected = sum(1 for f in plan.findings if f.severity == "critical" and f.playbook == "policy-remediation")
    dom, console = _open(page, "#severity=critical&playbook=policy-remediation")
    assert console == []
    assert _shown(dom) == expected and _rows(dom, "findings") == 100
