"""Role coverage walks the hierarchy as Resource Graph describes it: ancestors, never children."""

from __future__ import annotations

from datetime import UTC, datetime

from playbooks._policy_rbac import ancestors, holds
from remediator import Estate, Resource
from tests.data.policy import builders as b

ROOT = b.TENANT
PLATFORM = "/providers/Microsoft.Management/managementGroups/platform"
LANDING = "/providers/Microsoft.Management/managementGroups/landing-zones"
PRINCIPAL = "aaaaaaaa-9999-4999-8999-000000000009"


def _chain(*names: str) -> list[dict[str, str]]:
    return [{"name": n, "displayName": n} for n in names]


def _estate(*resources: dict[str, object]) -> Estate:
    return Estate(now=datetime(2026, 11, 26, tzinfo=UTC), resources=tuple(Resource.from_arm(r) for r in resources))


# Rows as Resource Graph's resourcecontainers table returns them (no "children" anywhere).
GROUP_ROW = {
    "id": LANDING,
    "name": "landing-zones",
    "type": "microsoft.management/managementgroups",
    "properties": {
        "displayName": "landing-zones",
        "details": {
            "parent": {"id": PLATFORM, "name": "platform"},
            "managementGroupAncestorsChain": _chain("platform", ROOT),
        },
    },
}
SUBSCRIPTION_ROW = {
    "id": f"/subscriptions/{b.S2}",
    "name": "sub-2",
    "type": "microsoft.resources/subscriptions",
    "properties": {"managementGroupAncestorsChain": _chain("landing-zones", "platform", ROOT)},
}


def test_a_subscriptions_ancestors_come_from_its_own_row() -> None:
    estate = _estate(SUBSCRIPTION_ROW)
    image = f"/subscriptions/{b.S2}/resourceGroups/images/providers/Microsoft.Compute/galleries/g/images/i"
    chain = ancestors(estate, image)
    assert chain[-4:] == (
        LANDING.lower(),
        PLATFORM.lower(),
        f"/providers/Microsoft.Management/managementGroups/{ROOT}".lower(),
        "/",
    )


def test_a_role_held_two_groups_up_covers_a_resource_in_the_subscription() -> None:
    held = b.role_assignment(PLATFORM, PRINCIPAL, b.CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-0000000000f1")
    estate = _estate(GROUP_ROW, SUBSCRIPTION_ROW, held)
    image = f"/subscriptions/{b.S2}/resourceGroups/images/providers/Microsoft.Compute/galleries/g/images/i"
    assert holds(estate, PRINCIPAL, b.CONTRIBUTOR, image)
    assert holds(estate, PRINCIPAL, b.CONTRIBUTOR, LANDING)
    # A subscription whose row is not there has no known place in the hierarchy.
    assert not holds(estate, PRINCIPAL, b.CONTRIBUTOR, f"/subscriptions/{b.S1}")
