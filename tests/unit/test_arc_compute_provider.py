from __future__ import annotations

from datetime import UTC, datetime

from playbooks.extension.arc_compute_provider import PLAYBOOK
from remediator import Context, Estate, Resource, Subscription

S1, S2, S3, S4 = (f"{i}{i}{i}{i}{i}{i}{i}{i}-0000-0000-0000-000000000000" for i in range(1, 5))


def _arc(sub: str, name: str) -> Resource:
    return Resource.from_arm(
        {
            "id": f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/{name}",
            "type": "microsoft.hybridcompute/machines",
        }
    )


def test_flags_only_subscriptions_with_arc_machines_and_compute_unregistered() -> None:
    estate = Estate(
        now=datetime(2026, 11, 26, tzinfo=UTC),
        subscriptions=(
            Subscription(S1, "prod", providers={"microsoft.compute": "NotRegistered"}),
            Subscription(S2, "dev", providers={"microsoft.compute": "Registering"}),
            Subscription(S3, "empty", providers={"microsoft.compute": "NotRegistered"}),
            Subscription(S4, "ok", providers={"microsoft.compute": "Registered"}),
        ),
        resources=(_arc(S1, "a"), _arc(S1, "b"), _arc(S2, "c"), _arc(S4, "d")),
    )
    ctx = Context(estate=estate)
    findings = {f.data["subscription_id"]: f for f in PLAYBOOK.detect(ctx)}
    assert set(findings) == {S1, S2}
    assert findings[S1].data["arc_machines"] == 2
    change = next(iter(PLAYBOOK.plan(ctx, findings[S1])))
    assert change.action == "register-provider"
    assert change.resource_id == f"/subscriptions/{S1}/providers/Microsoft.Compute"
    assert change.before == {"registrationState": "NotRegistered"}
    waiting = next(iter(PLAYBOOK.plan(ctx, findings[S2])))
    assert waiting.before == {"registrationState": "Registering"}
