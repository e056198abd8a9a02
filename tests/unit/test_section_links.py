"""Every doc section the issue-11 playbooks and the cause table name exists in the shared docs."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

DOCS = Path(__file__).resolve().parents[2].parent / "shared" / "azure" / "docs"
SECTION = re.compile(r"^([\w-]+\.md)#([\w-]+)$")
MODULES = tuple(
    importlib.import_module(f"playbooks.{name}")
    for name in (
        "_update_causes",
        "assessment_errors",
        "dynamic_scope_validation",
        "installation_errors",
        "invalid_classification",
        "lost_schedule",
        "maintenance_run_health",
        "schedule_conflicts",
        "stale_assessment",
    )
)


def _anchors(file: str) -> set[str]:
    text = (DOCS / file).read_text(encoding="utf-8")
    headings = re.findall(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _sections(module: ModuleType) -> set[str]:
    found = {v for v in vars(module).values() if isinstance(v, str) and SECTION.match(v)}
    found |= {c.doc for c in getattr(module, "CAUSES", ())}
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_named_section_exists(module: ModuleType) -> None:
    if not DOCS.is_dir():
        pytest.skip(f"{DOCS} is not beside the repository")
    sections = _sections(module)
    assert sections, module.__name__
    for section in sections:
        match = SECTION.match(section)
        assert match, section
        assert match.group(2) in _anchors(match.group(1)), section
