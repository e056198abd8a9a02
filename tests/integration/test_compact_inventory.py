"""The compact inventory (shared strings and sub-objects, streamed pages) finds what the plain one did.

Same generated estate, same playbooks: one plan from the inventory as it is, one with the
Compactor replaced by one that shares nothing (every row kept as ``json.loads`` made it). The two
plans must be the same findings with the same details and the same changes.
"""

from __future__ import annotations

from typing import Any

import pytest

from remediator.azure import inventory
from remediator.emulator.generate import generate_estate
from remediator.planfile import plan_to_json
from remediator.playbook import load_playbooks
from tests.playbook_harness import harness


class SharesNothing:
    def value(self, value: Any) -> Any:
        return value


def _plan() -> dict[str, Any]:
    estate = generate_estate(machines=300, subscriptions=4, seed=7)
    with harness(estate, [pb.id for pb in load_playbooks().all()]) as h:
        result = h.plan()
    assert not result.errors
    doc = plan_to_json(result.plan)
    doc.pop("generated_at")
    return doc


def test_compact_and_plain_inventories_plan_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    compact = _plan()
    monkeypatch.setattr(inventory, "Compactor", SharesNothing)
    plain = _plan()
    assert compact["findings"], "the generated estate has findings"
    assert compact == plain
