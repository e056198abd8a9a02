"""Every maintenance playbook and finding points at a section that exists in the troubleshooting article."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import playbooks  # noqa: F401  (registers the built-in playbooks)
from remediator.playbook import registry

ARTICLE = Path(__file__).resolve().parents[2].parent / "shared" / "azure" / "docs" / "troubleshoot.md"
MAINTENANCE = (
    "maintenance-moved-resource",
    "schedule-prerequisites",
    "patch-orchestration-manual",
    "schedule-conflicts",
    "powered-off-machines",
    "maintenance-window",
    "recreated-machine",
)


def anchors(markdown: str) -> set[str]:
    """GitHub/Learn heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


@pytest.mark.parametrize("playbook_id", MAINTENANCE)
def test_doc_anchor_exists(playbook_id: str) -> None:
    if not ARTICLE.is_file():
        pytest.skip(f"{ARTICLE} is not beside the repository")
    known = anchors(ARTICLE.read_text(encoding="utf-8"))
    doc = registry.get(playbook_id).doc
    page, _, anchor = doc.partition("#")
    assert page == "troubleshoot.md"
    assert anchor in known
    assert "scheduled-patching-isnt-working" in known  # recreated-machine's new-machine findings cite it
