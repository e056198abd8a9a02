"""On a generated estate the bot has never seen, every case of the article's sections that issue 11
added is found, with its cause and section, on exactly the machines the estate breaks that way."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from remediator.emulator.generate import generate_estate
from tests.cli_runner import run_cli

SECTIONS = {
    "installation-errors": "troubleshoot.md#",
    "stale-assessment": "troubleshoot.md#",
    "lost-schedule": "troubleshoot.md#you-cant-apply-patches-for-shut-down-machines",
    "invalid-classification": "troubleshoot-maintenance-configurations.md#install-patch-operation-fails-for-invalid",
    "dynamic-scope-validation": "troubleshoot-maintenance-configurations.md#unable-to-create-dynamic-scope",
    "maintenance-run-health": "troubleshoot-maintenance-configurations.md#apply-update-stuck",
}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _expected(estate: dict[str, Any]) -> dict[str, set[str]]:
    """What the estate breaks, read from it with the article's rules, independently of the playbooks."""
    now = _time(estate["now"])
    resources = estate["resources"]
    machines = {r["id"].lower(): r for r in resources if r["type"].endswith(("/virtualMachines", "/machines"))}
    out: dict[str, set[str]] = defaultdict(set)
    assigned = {
        r["properties"]["resourceId"].lower()
        for r in resources
        if r["type"] == "Microsoft.Maintenance/configurationAssignments"
    }
    for r in resources:
        rid, props = r["id"], r.get("properties") or {}
        if "/patchInstallationResults/" in rid and props.get("errorDetails"):
            out["installation-errors"].add(rid.split("/patchInstallationResults/")[0].lower())
        if rid.endswith("/patchAssessmentResults/latest") and now - _time(props["lastModifiedDateTime"]) > timedelta(
            hours=36
        ):
            machine = machines[rid.split("/patchAssessmentResults/")[0].lower()]
            mp = machine["properties"]
            off = any("deallocated" in s["code"] for s in (mp.get("instanceView") or {}).get("statuses", []))
            if not off and mp.get("status", "Connected") == "Connected":
                out["stale-assessment"].add(machine["id"].lower())
        if r["type"].endswith("applyUpdates"):
            target = props["resourceId"].lower()
            created = machines[target]["properties"].get("timeCreated") if target in machines else None
            same_instance = created is None or _time(props["startDateTime"]) >= _time(created)
            if target in machines and target not in assigned and same_instance:
                out["lost-schedule"].add(target)
            if props["status"] == "InProgress":
                out["maintenance-run-health"].add(target)
    return out


def test_every_new_case_is_found_with_cause_and_section_on_exactly_its_machines(tmp_path: Path) -> None:
    estate = generate_estate(machines=900, subscriptions=4, seed=21)
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(estate))
    ran = run_cli(["run", "--dry-run", "--estate", str(path), "--format", "json"])
    assert ran.code == 2, ran.stderr
    findings = json.loads(ran.stdout)["findings"]
    by_playbook: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        by_playbook[finding["playbook"]].append(finding)
    for playbook, prefix in SECTIONS.items():
        assert by_playbook[playbook], playbook
        assert all(f["doc"].startswith(prefix) for f in by_playbook[playbook]), playbook
    expected = _expected(estate)
    for playbook in ("installation-errors", "stale-assessment", "lost-schedule", "maintenance-run-health"):
        found = {f["resource_id"].lower() for f in by_playbook[playbook]}
        assert found == expected[playbook], playbook
    causes = {c for f in by_playbook["installation-errors"] for c in f["data"]["causes"]}
    assert causes == {"internal-execution-error", "hresult", "linux-repositories", "shutdown-or-unresponsive"}
