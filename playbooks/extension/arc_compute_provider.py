"""arc-compute-provider: Arc servers get no periodic assessment while Microsoft.Compute is unregistered.

troubleshoot.md, "You can't generate periodic assessment for Azure Arc-enabled servers": the
subscriptions holding the Arc machines must be registered to Microsoft.Compute. One finding per
such subscription (not per machine: the fix is one call per subscription); a subscription with no
Arc machine is left alone, whatever its registration state.
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator import Change, Context, Finding, Needs, Playbook, register

ARC_MACHINE = "microsoft.hybridcompute/machines"
NAMESPACE = "Microsoft.Compute"
# States a register call moves on; "Registering" needs only the wait, never a second register.
NEEDS_REGISTER = frozenset({"notregistered", "unregistered", "unregistering"})


def detect(ctx: Context) -> Iterable[Finding]:
    machines_by_sub: dict[str, int] = {}
    for machine in ctx.estate.of_type(ARC_MACHINE):
        key = machine.subscription_id.lower()
        machines_by_sub[key] = machines_by_sub.get(key, 0) + 1
    for sub in ctx.estate.subscriptions:
        count = machines_by_sub.get(sub.subscription_id.lower(), 0)
        state = sub.provider_state(NAMESPACE)
        if count == 0 or state is None or state.lower() == "registered":
            continue
        waiting = state.lower() == "registering"
        yield Finding(
            playbook=PLAYBOOK.id,
            resource_id=f"/subscriptions/{sub.subscription_id}/providers/{NAMESPACE}",
            severity="high",
            title=f"{NAMESPACE} is {state} in subscription {sub.display_name or sub.subscription_id}",
            detail=(
                f"{count} Azure Arc-enabled server(s) in this subscription produce no periodic assessment "
                f"data until the subscription is registered to {NAMESPACE}."
                + (" Registration is already under way; the fix waits for it." if waiting else "")
            ),
            doc=PLAYBOOK.doc,
            fixable=waiting or state.lower() in NEEDS_REGISTER,
            data={"subscription_id": sub.subscription_id, "arc_machines": count, "registration_state": state},
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    yield Change(
        finding_id=finding.id,
        playbook=PLAYBOOK.id,
        resource_id=finding.resource_id,
        action="register-provider",
        before={"registrationState": finding.data["registration_state"]},
        after={"registrationState": "Registered"},
        order=10,
    )


PLAYBOOK = register(
    Playbook(
        id="arc-compute-provider",
        title="Arc servers' subscriptions must be registered to Microsoft.Compute",
        doc="troubleshoot.md#you-cant-generate-periodic-assessment-for-azure-arc-enabled-servers",
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=frozenset({ARC_MACHINE}), providers=frozenset({NAMESPACE})),
        permissions=("Microsoft.Compute/register/action",),
        read_permissions=("Microsoft.HybridCompute/machines/read", "Microsoft.Resources/subscriptions/read"),
        fix_default=True,
        phase=10,
    )
)
