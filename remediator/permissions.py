"""The least-privilege custom role for the bot: what its enabled playbooks read and write.

Never ``*`` and never role-assignment rights beyond what a playbook names: the bot grants roles
only for `policy-identity-roles`, which declares ``Microsoft.Authorization/roleAssignments/write``
itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import UsageError
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


# Segments only ever seen lowercased (Resource Graph type names), in the casing ARM documents them.
KNOWN_SEGMENTS = ("patchInstallationResults", "applyUpdates", "configurationAssignments", "galleries", "images")

# The roles Update Manager's built-in policies name (their roleDefinitionIds): Contributor for the Azure
# VM policies (v4.7.0+), Virtual Machine Contributor for the same policies up to v4.6.0, Azure Connected
# Machine Resource Administrator for Arc. The ids are the built-in role definitions' names.
GRANTABLE_ROLES = {
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "9980e02c-c2be-4d73-94e8-173b1dc7cf3c": "Virtual Machine Contributor",
    "cd570a14-e51a-42ad-bac8-bafd67325302": "Azure Connected Machine Resource Administrator",
}
ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write"


def require_scopes(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """A custom role needs real assignable scopes: never a placeholder subscription.

    Each scope's form is checked by ``config.validate_assignable_scope``.
    """
    if not scopes:
        raise UsageError(
            "permissions needs --scope (repeatable): /subscriptions/ID, /subscriptions/ID/resourceGroups/NAME "
            "or /providers/Microsoft.Management/managementGroups/ID"
        )
    return scopes


def _dedupe_case(actions: set[str]) -> list[str]:
    """ARM compares actions case-insensitively: one spelling of each, in the casing ARM documents.

    Reads derived from Resource Graph type names arrive lowercased; each segment takes the casing
    another action (or KNOWN_SEGMENTS) spells it with, so the role reads as Microsoft writes roles.
    """
    spelled = {seg.lower(): seg for seg in KNOWN_SEGMENTS}
    for action in sorted(actions):
        for seg in action.split("/"):
            if seg != seg.lower():
                spelled.setdefault(seg.lower(), seg)
    canonical = {"/".join(spelled.get(seg.lower(), seg) for seg in action.split("/")) for action in actions}
    seen: dict[str, str] = {}
    for action in sorted(canonical):
        seen.setdefault(action.lower(), action)
    return sorted(seen.values(), key=str.lower)


def role_assignment_condition(role_ids: Iterable[str] = GRANTABLE_ROLES) -> str:
    """The ABAC condition for the bot's own role assignment: it may create role assignments only of
    the roles Update Manager's policies name, and only for service principals (the policy
    assignments' managed identities), so its right to grant cannot be used to widen itself.

    The shape is Microsoft's "Constrain roles" delegation example (Learn: role-based-access-control/
    delegate-role-assignments-examples; attributes in conditions-authorization-actions-attributes).
    The bot never deletes role assignments, so the condition covers the write action only.
    """
    ids = ", ".join(sorted(role_ids))
    return (
        "((!(ActionMatches{'" + ROLE_ASSIGNMENT_WRITE + "'})) OR "
        "(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {"
        + ids
        + "} "
        "AND @Request[Microsoft.Authorization/roleAssignments:PrincipalType] "
        "ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))"
    )


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
        "AssignableScopes": list(scopes),
    }
