"""A new playbook is one module dropped into a family folder: no other file is edited.

The test copies the ``playbooks`` package as it ships, adds one report-only module to the
``maintenance`` family, and runs the real ``remediator`` console script in a subprocess with the
copy first on ``PYTHONPATH``: the engine finds the package through its entry point, the package
walks its folders, and the new module registers itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import playbooks

NEW_ID = "dropped-in-vm-listing"
NEW_MODULE = '''"""Report-only: every Azure VM of the estate, to prove a dropped-in module is picked up."""

from collections.abc import Iterable

from remediator import Context, Finding, Needs, Playbook, register

from ._maintenance_model import VM_TYPE


def detect(ctx: Context) -> Iterable[Finding]:
    for vm in ctx.estate.of_type(VM_TYPE):
        yield Finding(
            playbook="dropped-in-vm-listing",
            resource_id=vm.id,
            severity="low",
            title=f"{vm.name} is listed by a dropped-in playbook",
            detail="Nothing to fix.",
            doc="troubleshoot.md",
            fixable=False,
        )


PLAYBOOK = register(
    Playbook(
        id="dropped-in-vm-listing",
        title="VMs listed by a playbook dropped into the maintenance family",
        doc="troubleshoot.md",
        severity="low",
        detect=detect,
        needs=Needs(resource_types=frozenset({VM_TYPE})),
        read_permissions=("Microsoft.Compute/virtualMachines/read",),
    )
)
'''


def _remediator(args: list[str], pythonpath: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "remediator"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_module_dropped_into_a_family_folder_is_listed_and_run(tmp_path: Path) -> None:
    source = Path(playbooks.__file__).parent
    copy = tmp_path / "playbooks"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "maintenance" / "dropped_in_vm_listing.py").write_text(NEW_MODULE)

    listed = _remediator(["playbooks"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    ids = [line.split("\t", 1)[0] for line in listed.stdout.splitlines()]
    assert NEW_ID in ids and "schedule-conflicts" in ids

    run = _remediator(["run", "--dry-run", "--estate", "demo", "--playbook", NEW_ID, "--format", "json"], tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    found = [f for f in report["findings"] if f["playbook"] == NEW_ID]
    assert found and all("/providers/microsoft.compute/virtualmachines/" in f["resource_id"].lower() for f in found)
    assert report["changes"] == []


def test_without_the_dropped_in_module_the_id_is_unknown(tmp_path: Path) -> None:
    shutil.copytree(
        Path(playbooks.__file__).parent, tmp_path / "playbooks", ignore=shutil.ignore_patterns("__pycache__")
    )
    run = _remediator(["run", "--dry-run", "--estate", "demo", "--playbook", NEW_ID, "--format", "json"], tmp_path)
    assert run.returncode != 0
    assert f"unknown playbook {NEW_ID!r}" in run.stderr
