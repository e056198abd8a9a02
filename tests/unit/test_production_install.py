"""The production install (no `emulator` extra) works without the emulator's libraries."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_ONLY = ("werkzeug", "trustme", "lark", "fastjsonschema")

# Block the emulator's libraries the way a missing install does, then run the real entry point.
PROBE = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
from remediator.cli import main
main({argv!r})
"""


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    code = PROBE.format(blocked=EMULATOR_ONLY, argv=argv)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)


def test_the_bot_runs_without_the_emulator_extra() -> None:
    listed = _run(["playbooks"])
    assert listed.returncode == 0, listed.stderr
    assert "arc-compute-provider" in listed.stdout
    checked = _run(["validate", "--subscription", "11111111-2222-3333-4444-555555555555"])
    assert checked.returncode == 0, checked.stderr


def test_estate_without_the_extra_says_what_to_install() -> None:
    result = _run(["run", "--dry-run", "--estate", "demo"])
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines() == [result.stderr.strip().splitlines()[0]]
        and "pip install 'aum-remediator[emulator]'" in result.stderr
    )


def test_the_emulator_libraries_are_only_in_the_emulator_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"]).lower()
    assert not [name for name in EMULATOR_ONLY if name in core]
    extra = " ".join(project["optional-dependencies"]["emulator"]).lower()
    assert all(name in extra for name in EMULATOR_ONLY)
