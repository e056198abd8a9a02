"""A 2,000-machine dry run, as an operator and a CI pipeline read it: every format at once.

The run goes through the real CLI against the emulator; each report is checked for what a person
(or a CI test tab, or GitHub's comment box) needs: a summary first, the terminal's width, the
65,536-character comment limit, per-field diffs, doc links, suites per playbook.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from remediator.emulator.generate import generate_estate
from remediator.playbook import load_playbooks
from remediator.report.markdown import LIMIT
from tests.cli_runner import CliResult, run_cli

LEARN = "https://learn.microsoft.com/ja-jp/azure/update-manager/troubleshoot#"


@dataclass(frozen=True)
class Run:
    result: CliResult
    dir: Path

    def read(self, name: str) -> str:
        return (self.dir / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("scale")
    estate = root / "estate.json"
    estate.write_text(json.dumps(generate_estate(machines=2000, subscriptions=8, seed=5)))
    mp = pytest.MonkeyPatch()
    mp.setenv("COLUMNS", "80")
    try:
        args = ["run", "--dry-run", "--estate", str(estate), "--locale", "ja-jp"]
        for fmt, name in (("markdown", "r.md"), ("html", "r.html"), ("junit", "r.xml"), ("json", "r.json")):
            args += ["--report", f"{fmt}={root / name}"]
        result = run_cli(args)
    finally:
        mp.undo()
    assert result.code == 2, result.stderr
    return Run(result, root)


def test_the_table_starts_with_the_summary_and_fits_80_columns(dry_run: Run) -> None:
    lines = dry_run.result.stdout.splitlines()
    assert lines[0].startswith("Findings by playbook, subscription and severity")
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("Changes by action") for line in lines)
    # Not the whole estate: the most severe 50, then where the rest is.
    assert any("more findings: see --format html" in line for line in lines)
    assert "{'" not in dry_run.result.stdout  # before -> after is per field, never a dict repr


def test_markdown_fits_a_pull_request_comment(dry_run: Run) -> None:
    text = dry_run.read("r.md")
    doc = json.loads(dry_run.read("r.json"))
    assert len(text) <= LIMIT
    assert text.startswith("## aum-remediator dry run: ")
    assert f"{doc['summary']['findings']} findings" in text.splitlines()[0]
    assert "more findings" in text and "in the artifact" in text
    assert LEARN in text
    assert " → " in text


def test_the_closing_summary_line_is_on_stderr(dry_run: Run) -> None:
    last = dry_run.result.stderr.strip().splitlines()[-1]
    assert last.startswith("remediator run: dry run: ") and last.rstrip().endswith("s")
    assert "exit 2 (changes pending)" in last


def test_junit_has_a_suite_per_playbook_with_passing_healthy_cases(dry_run: Run) -> None:
    root = ET.fromstring(dry_run.read("r.xml").split("?>", 1)[1])
    doc = json.loads(dry_run.read("r.json"))
    assert root.tag == "testsuites" and root.get("timestamp") and root.get("time")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(doc["summary"]["findings_by_playbook"]) <= set(suites)
    # every playbook that ran, healthy ones included
    assert set(suites) == {pb.id for pb in load_playbooks().all()}
    for name, suite in suites.items():
        cases = list(suite.iter("testcase"))
        failing = [c for c in cases if c.find("failure") is not None]
        assert int(suite.get("tests", "-1")) == len(cases) and int(suite.get("failures", "-1")) == len(failing)
        assert suite.get("timestamp") and float(suite.get("time", "x")) >= 0
        assert len(failing) == doc["summary"]["findings_by_playbook"].get(name, 0)
    passed = int(root.get("tests", "0")) - int(root.get("failures", "0")) - int(root.get("errors", "0"))
    assert passed > 0  # the healthy subscriptions count as passing


def test_html_carries_charts_filters_and_doc_links(dry_run: Run) -> None:
    page = dry_run.read("r.html")
    for part in ('id="chart-severity"', 'id="chart-playbook"', 'id="f-playbook"', 'id="f-subscription"'):
        assert part in page
    assert 'id="f-severity"' in page and LEARN in page
    assert "<script src=" not in page and "<link " not in page  # self-contained


def test_opt_in_findings_say_their_fix_is_off(dry_run: Run) -> None:
    doc = json.loads(dry_run.read("r.json"))
    opt_in = {f["id"] for f in doc["findings"] if f["playbook"] == "powered-off-machines" and f["fixable"]}
    assert opt_in and not {c["finding_id"] for c in doc["changes"]} & opt_in
    text = dry_run.read("r.md")
    assert "| powered-off-machines |" not in text or "opt-in (off)" in text
    root = ET.fromstring(dry_run.read("r.xml").split("?>", 1)[1])
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "powered-off-machines")
    assert all("fix: opt-in (off)" in (f.text or "") for f in suite.iter("failure"))
