"""A plan file is bound to what it was made against, and `apply` runs only what the bot would plan now.

DESIGN.md 3.1: "A plan is bound to the target it was made against (tenant, endpoint, scope);
`apply` refuses it elsewhere and executes only changes a fresh plan also makes." A plan file is
input like any other: whoever can edit it could otherwise make the bot grant Owner, climb above
its scope with ``..`` or run a delete before the create it depends on. The change id hashes
everything that decides what a change does, and a change is executed only when a plan made now,
by this bot, against this tenant, holds the same change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .config import MANAGEMENT_GROUP, validate_subscription_id
from .errors import PlanFileError
from .model import Change, Outcome, Plan, Scope

EMULATOR_PREFIX = "emulator:"


def target_label(estate: str | None, arm_endpoint: str) -> str:
    """Where a command runs: the built-in emulator seeded from ``estate``, or an ARM endpoint."""
    return f"{EMULATOR_PREFIX}{estate}" if estate else arm_endpoint.rstrip("/").lower()


def plan_target(label: str, tenant_id: str) -> dict[str, str]:
    return {"endpoint": label, "tenant_id": tenant_id.lower()}


def check_endpoint(plan: Plan, label: str) -> None:
    """Refuse a plan made against another endpoint (checked before connecting to anything)."""
    planned = plan.target.get("endpoint")
    if not planned:
        raise PlanFileError("plan: it names no target (tenant, endpoint); make it again with `remediator plan`")
    if planned != label:
        hint = " (pass the same --estate)" if planned.startswith(EMULATOR_PREFIX) else ""
        raise PlanFileError(f"plan was made against {planned}, not {label}: refusing to apply it here{hint}")


def check_tenant(plan: Plan, tenant_id: str) -> None:
    planned = plan.target.get("tenant_id", "")
    if planned != tenant_id.lower():
        raise PlanFileError(f"plan was made for tenant {planned or '(none)'}, not {tenant_id}: refusing to apply it")


def plan_scope(plan: Plan, configured: Scope) -> Scope:
    """The plan's scope, validated; it must be the configured one when the settings name one."""
    raw = plan.scope
    subscriptions = raw.get("subscriptions") or []
    group = raw.get("management_group")
    if not isinstance(subscriptions, list) or not all(isinstance(s, str) for s in subscriptions):
        raise PlanFileError("plan: $.scope.subscriptions: expected a list of subscription ids")
    if group is not None and (not isinstance(group, str) or not MANAGEMENT_GROUP.match(group)):
        raise PlanFileError(f"plan: $.scope.management_group: invalid management group id {group!r}")
    scope = Scope(tuple(validate_subscription_id(s) for s in subscriptions), group)
    if (configured.subscriptions or configured.management_group) and _key(configured) != _key(scope):
        raise PlanFileError(f"plan covers {scope.to_json()}, the settings {configured.to_json()}: refusing to apply")
    return scope


def _key(scope: Scope) -> tuple[frozenset[str], str]:
    return frozenset(s.lower() for s in scope.subscriptions), (scope.management_group or "").lower()


def match_fresh(
    planned: Sequence[Change], fresh: Sequence[Change], is_done: Callable[[Change], bool]
) -> tuple[list[Change], list[Outcome]]:
    """The planned changes a fresh plan also makes (same id, action, target, ``after``, params,
    dependencies), and an outcome for each of the others, never executed: ``noop`` when the live
    state already is its ``after`` (applied since), else ``stale`` (edited, or no longer needed)."""
    by_id: Mapping[str, Change] = {c.id: c for c in fresh}
    kept: list[Change] = []
    refused: list[Outcome] = []
    for change in planned:
        twin = by_id.get(change.id)
        if twin is not None and _same_change(change, twin):
            kept.append(change)
        elif is_done(change):
            refused.append(Outcome(change.id, "noop", detail="already in the planned state"))
        else:
            refused.append(
                Outcome(
                    change.id,
                    "stale",
                    detail="not executed: a plan made now does not make this change (edited, or no longer "
                    "needed); plan again",
                )
            )
    # A change whose dependency was refused does not run alone (a delete without its create).
    while orphans := [c for c in kept if any(d not in {k.id for k in kept} for d in c.depends_on)]:
        kept = [c for c in kept if c not in orphans]
        refused += [Outcome(c.id, "skipped", detail="depends on a change that was refused") for c in orphans]
    return kept, refused


def _same_change(a: Change, b: Change) -> bool:
    return (
        a.action == b.action
        and a.resource_id.lower() == b.resource_id.lower()
        and dict(a.after) == dict(b.after)
        and dict(a.params) == dict(b.params)
        and sorted(a.depends_on) == sorted(b.depends_on)
        and a.order == b.order
    )
