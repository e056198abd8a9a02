"""The least-privilege custom role for the bot: what its enabled playbooks read and write.

Never ``*`` and never role-assignment rights beyond what a playbook names: the bot grants roles
only for `policy-identity-roles`, which declares ``Microsoft.Authorization/roleAssignments/write``
itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .playbook import Playbook

# What every run needs to read the estate in bulk.
BASE_READS = (
    "Microsoft.ResourceGraph/resources/read",
    "Microsoft.Resources/subscriptions/read",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Resources/subscriptions/providers/read",
    "Microsoft.Management/managementGroups/read",
)


# Types whose read is not "<type>/read": policy states are read through queryResults.
NOT_READ_BY_TYPE = frozenset({"microsoft.policyinsights/policystates"})


def _dedupe_case(actions: set[str]) -> list[str]:
    """ARM compares actions case-insensitively: keep one spelling of each, the first in sort order."""
    seen: dict[str, str] = {}
    for action in sorted(actions):
        seen.setdefault(action.lower(), action)
    return sorted(seen.values(), key=str.lower)


def custom_role(
    playbooks: Iterable[Playbook], scopes: tuple[str, ...] = (), fixing: set[str] | None = None
) -> dict[str, Any]:
    """Reads for every playbook; writes only for those whose fix is on (``fixing``; None: all)."""
    actions: set[str] = set(BASE_READS)
    for pb in playbooks:
        actions.update(pb.read_permissions)
        # Resource Graph returns only what the caller may read: every type the inventory reads for
        # a playbook needs its own read action, or the playbook silently sees nothing.
        actions.update(f"{t}/read" for t in pb.needs.resource_types if t.lower() not in NOT_READ_BY_TYPE)
        if pb.needs.policy_states:
            actions.add("Microsoft.PolicyInsights/policyStates/queryResults/read")
        if fixing is None or pb.id in fixing:
            actions.update(pb.permissions)
    return {
        "Name": "AUM Remediator",
        "IsCustom": True,
        "Description": "Finds and fixes Azure Update Manager failures (aum-remediator).",
        "Actions": _dedupe_case(actions),
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": list(scopes) or ["/subscriptions/00000000-0000-0000-0000-000000000000"],
    }
