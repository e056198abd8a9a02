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


def custom_role(
    playbooks: Iterable[Playbook], scopes: tuple[str, ...] = (), fixing: set[str] | None = None
) -> dict[str, Any]:
    """Reads for every playbook; writes only for those whose fix is on (``fixing``; None: all)."""
    actions: set[str] = set(BASE_READS)
    for pb in playbooks:
        actions.update(pb.read_permissions)
        if fixing is None or pb.id in fixing:
            actions.update(pb.permissions)
    return {
        "Name": "AUM Remediator",
        "IsCustom": True,
        "Description": "Finds and fixes Azure Update Manager failures (aum-remediator).",
        "Actions": sorted(actions),
        "NotActions": [],
        "DataActions": [],
        "NotDataActions": [],
        "AssignableScopes": list(scopes) or ["/subscriptions/00000000-0000-0000-0000-000000000000"],
    }
