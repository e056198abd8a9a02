"""``--examples DIR`` (what ``make contract EXAMPLES=DIR`` passes) replays a folder it has never seen.

The folder is built here: a subset of the shared specs, plus examples written for this test (new
names, subscription and resource group, so nothing about them was known to the seeding code),
one of which claims a status the service does not answer with, and must fail by its file name.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.contract.spec_location import REPO_ROOT
from tests.contract.swagger import SpecFolder

REMEDIATIONS = "specification/policyinsights/resource-manager/Microsoft.PolicyInsights/stable/2021-10-01"
COMMON_TYPES = "specification/common-types"
KEPT = ("Remediations_GetSubscriptionScope.json", "Remediations_CancelSubscriptionScope.json")
UNSEEN = "Remediations_CreateResourceGroupScope_Unseen.json"
WRONG_STATUS = "Remediations_GetSubscriptionScope_WrongStatus.json"
TEST_ID = "tests/contract/test_examples.py::test_example_replays_against_the_emulator"


def _renamed(text: str) -> str:
    for old, new in (
        ("35ee058e-5fa0-414c-8145-3ebb8d09b6e2", "5d1e2f3a-0b9c-4e8d-a7f6-0123456789ab"),
        ("myResourceGroup", "rg-never-seen"),
        ("storageRemediation", "brand-new-remediation"),
        ("b101830944f246d8a14088c5", "assignment-never-seen"),
    ):
        text = text.replace(old, new)
    return text


def _build_folder(specs: SpecFolder, target: Path) -> None:
    shutil.copytree(specs.root / COMMON_TYPES, target / COMMON_TYPES)
    source, folder = specs.root / REMEDIATIONS, target / REMEDIATIONS
    (folder / "examples").mkdir(parents=True)
    for name in KEPT:
        shutil.copy(source / "examples" / name, folder / "examples" / name)
    create = (source / "examples" / "Remediations_CreateResourceGroupScope.json").read_text(encoding="utf-8")
    (folder / "examples" / UNSEEN).write_text(_renamed(create), encoding="utf-8")
    get = json.loads((source / "examples" / "Remediations_GetSubscriptionScope.json").read_text(encoding="utf-8"))
    get["responses"] = {"202": get["responses"]["200"]}  # the service answers 200: this must fail
    (folder / "examples" / WRONG_STATUS).write_text(json.dumps(get), encoding="utf-8")
    swagger = json.loads((source / "remediations.json").read_text(encoding="utf-8"))
    paths = swagger["paths"]
    rg = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.PolicyInsights"
    paths[rg + "/remediations/{remediationName}"]["put"]["x-ms-examples"]["Unseen"] = {"$ref": f"./examples/{UNSEEN}"}
    sub = "/subscriptions/{subscriptionId}/providers/Microsoft.PolicyInsights/remediations/{remediationName}"
    paths[sub]["get"]["x-ms-examples"]["Wrong status"] = {"$ref": f"./examples/{WRONG_STATUS}"}
    (folder / "remediations.json").write_text(json.dumps(swagger, indent=2), encoding="utf-8")


def _pytest(examples: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "-p", "no:xdist"]
    command += [f"--examples={examples}", "tests/contract/test_examples.py"]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_a_folder_never_seen_is_replayed_and_failures_name_their_example(specs: SpecFolder, tmp_path: Path) -> None:
    _build_folder(specs, tmp_path)
    run = _pytest(tmp_path)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    for name in (*KEPT, UNSEEN):
        assert f"PASSED {TEST_ID}[{REMEDIATIONS}/examples/{name}]" in out, out
    assert f"FAILED {TEST_ID}[{REMEDIATIONS}/examples/{WRONG_STATUS}]" in out, out
    assert "status 200 is not one the example lists (202)" in out, out
    assert re.search(r"\b1 failed\b", out), out


def test_a_missing_folder_skips_with_the_path_it_looked_at(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-specs"
    run = _pytest(missing)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"no REST specs at {missing}" in run.stdout


def test_make_contract_passes_examples_to_pytest(tmp_path: Path) -> None:
    dry_run = subprocess.run(
        ["make", "-n", "contract", f"EXAMPLES={tmp_path}"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert dry_run.returncode == 0, dry_run.stderr
    assert f"pytest -q -rs tests/contract --examples={tmp_path}" in dry_run.stdout
