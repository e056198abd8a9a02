"""A generated estate of healthy machines, with look-alikes of every failure, yields no findings.

Healthy mode mixes in what a careless check flags: VMs created an hour ago that Azure has not
assessed or given an extension yet, Succeeded installation runs, a failure healed by the next
run, machines under a dynamic scope only, a weekly and a nightly schedule on different machines.
Every playbook runs; none may report anything (the 100,000-machine run is measured in
BENCHMARKS.md, this is the same generator at a size `make test` can afford).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from remediator.emulator.generate import generate_estate
from tests.cli_runner import run_cli


def test_a_healthy_generated_estate_yields_no_findings_at_all(tmp_path: Path) -> None:
    estate = generate_estate(machines=400, subscriptions=4, seed=7, healthy=True)
    resources = estate["resources"]
    vms = [r for r in resources if r["type"] == "Microsoft.Compute/virtualMachines"]
    installations = Counter(r["properties"]["status"] for r in resources if "patchInstallationResults" in r["id"])
    with_extension = {r["id"].rsplit("/extensions/", 1)[0].lower() for r in resources if "/extensions/" in r["id"]}
    # The look-alikes are there: new VMs without an extension, Succeeded and healed runs.
    assert any(vm["id"].lower() not in with_extension for vm in vms)
    assert installations["Succeeded"] > 0 and installations["Failed"] > 0
    path = tmp_path / "healthy.json"
    path.write_text(json.dumps(estate))
    ran = run_cli(["run", "--dry-run", "--estate", str(path), "--format", "json"])
    assert ran.code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["findings"] == [] and doc["changes"] == []
