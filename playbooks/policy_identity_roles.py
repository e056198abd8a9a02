"""policy-identity-roles: the roles an Update Manager assignment's managed identity lacks.

troubleshoot.md, "Policy remediation tasks are failing for images": a remediation runs as the
assignment's managed identity, which needs the roles the definition names (``roleDefinitionIds``)
at the assignment's scope and read access wherever a linked gallery image, disk or disk
encryption set lives. Assignments made before v4.7.0 of the VM periodic-assessment policy hold
Virtual Machine Contributor, which cannot read gallery images; v4.7.0+ names Contributor.
The fix grants exactly the definition's roles at the narrowest scope that covers the need, with
deterministic role assignment names; never Owner or User Access Administrator.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from remediator import Change, Context, Finding, Needs, Playbook, register, roles_of

from ._policy_model import (
    AUM_BUILTIN_IDS,
    POLICY_INVENTORY_TYPES,
    ROLE_ASSIGNMENT,
    ROLE_DEFINITION,
    assignments,
)
from ._policy_options import check_options
from ._policy_rbac import (
    BUILTIN_ROLE_IDS,
    CONTRIBUTOR,
    FORBIDDEN_ROLES,
    VIRTUAL_MACHINE_CONTRIBUTOR,
    holds,
    role_assignment_name,
    role_name,
    scope_level,
)
from ._policy_role_needs import AssignmentNeeds, assignment_needs, aum_members

PLAYBOOK_ID = "policy-identity-roles"
DOC = "troubleshoot.md#policy-remediation-tasks-are-failing-for-images"
# Roles before remediations (policy-remediation uses order 60 and phase 40).
ROLE_ORDER = 20
ROLE_ASSIGNMENTS_SEGMENT = "/providers/Microsoft.Authorization/roleAssignments/"

OPTIONS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "custom_definitions": {
            "type": "array",
            "items": {"type": "string", "pattern": "^/"},
            "description": "Custom policy definition ids to treat as Update Manager policies (besides the built-ins)",
        },
        "max_scope": {
            "enum": ["resource", "resource_group", "subscription", "management_group"],
            "description": "The broadest scope the bot may grant at; broader needs are narrowed to the machines",
        },
        "linked_scope": {
            "enum": ["resource", "resource_group"],
            "description": "Grant for a linked image, disk or encryption set at the resource (default) or its group",
        },
        "linked_role": {
            "type": "string",
            "description": "Role for linked resources instead of the definition's (e.g. Reader); never Owner",
        },
        "read_failed_deployments": {
            "type": "boolean",
            "description": "Also grant where failed remediation deployments said AuthorizationFailed (default true)",
        },
    },
}


def _problem_finding(needs: AssignmentNeeds) -> Finding:
    assignment = needs.assignment
    if needs.problem == "no managed identity":
        title = f"Assignment '{assignment.display_name}' has no managed identity: its remediations cannot run"
        detail = (
            "A modify or deployIfNotExists assignment needs a system- or user-assigned managed identity for "
            "remediation tasks. The bot cannot add one: re-create or update the assignment with an identity, "
            "then grant it the definition's roles."
        )
    elif needs.problem == "identity no longer exists":
        title = f"Assignment '{assignment.display_name}' uses an identity that no longer exists"
        detail = (
            f"The assignment's identity ({needs.identity}) was deleted, so its remediations cannot run and no "
            "role can be granted to it. Assign an existing identity to the assignment."
        )
    elif needs.problem == "identity unknown":
        title = f"Cannot check the roles of '{assignment.display_name}': its identity's principal is unknown"
        detail = (
            f"The assignment has a {needs.identity}, so the roles it holds cannot be checked. Read the "
            "assignment with an api-version that returns identity.principalId, or check its roles by hand."
        )
    else:
        title = f"Assignment '{assignment.display_name}' names a role the bot never grants"
        detail = (
            f"The definition asks for {needs.problem.split(':', 1)[1]} (Owner, User Access Administrator or "
            "Role Based Access Control Administrator). Granting a policy identity the right to grant roles "
            "is a decision for a person; grant it by hand if it is really intended."
        )
    return Finding(
        playbook=PLAYBOOK_ID,
        resource_id=assignment.id,
        severity="high",
        title=title,
        detail=detail,
        doc=DOC,
        fixable=False,
        key=needs.problem,
        data={"assignment_id": assignment.id, "identity": needs.identity},
    )


VM_ASSESSMENT_GUID = "59efceea-0c96-497e-a4a1-4eb2290dac15"


def _held_note(ctx: Context, needs: AssignmentNeeds, scope: str, absent: tuple[str, ...], vm_policy: bool) -> str:
    """The v4.6.0 -> v4.7.0 role change, when it explains the gap."""
    if (
        vm_policy
        and CONTRIBUTOR in absent
        and holds(ctx.estate, needs.principal_id, VIRTUAL_MACHINE_CONTRIBUTOR, scope)
    ):
        return (
            " It holds Virtual Machine Contributor, which the VM periodic-assessment policy required up to "
            "v4.6.0; from v4.7.0 it needs Contributor (Virtual Machine Contributor cannot read gallery images)."
        )
    return ""


def detect(ctx: Context) -> Iterable[Finding]:
    check_options(PLAYBOOK_ID, OPTIONS_SCHEMA, ctx.options)
    estate = ctx.estate
    linked_role = ctx.option("linked_role", None)
    options = dict(ctx.options)
    if linked_role and str(linked_role).rstrip("/").rsplit("/", 1)[-1].lower() in FORBIDDEN_ROLES:
        options.pop("linked_role")  # never hand out a role-granting role, whatever the config says
    safe_ctx = replace(ctx, options=options)  # keeps the run's scope and exclusions
    granted: set[tuple[str, str, str]] = set()
    for assignment in assignments(estate):
        members = aum_members(safe_ctx, assignment)
        if not members:
            continue
        needs = assignment_needs(safe_ctx, assignment, members)
        if needs.problem:
            yield _problem_finding(needs)
            continue
        vm_policy = any(m.definition_id.lower().endswith(VM_ASSESSMENT_GUID) for m in members)
        for need in needs.unverifiable:
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=assignment.id,
                severity="medium",
                title=f"Cannot check the roles of '{assignment.display_name}' at {need.scope}",
                detail=(
                    f"The {needs.identity} (principal {needs.principal_id}) needs "
                    f"{', '.join(role_name(estate, r) for r in need.roles)} at {need.scope} for: "
                    f"{'; '.join(need.reasons)}. This run cannot see role assignments made at that management "
                    f"group, so it grants nothing there; run with --management-group {need.scope.rsplit('/', 1)[-1]} "
                    "to check and fix it."
                ),
                doc=DOC,
                fixable=False,
                key=f"unverifiable|{needs.principal_id.lower()}|{need.scope.lower()}",
                data={"assignment_id": assignment.id, "principal_id": needs.principal_id, "scope": need.scope},
            )
        for need, absent in needs.lacking:
            # One grant per (principal, scope, role): assignments sharing a user-assigned identity share it.
            todo = tuple(r for r in absent if (needs.principal_id.lower(), need.scope.lower(), r) not in granted)
            granted.update((needs.principal_id.lower(), need.scope.lower(), r) for r in todo)
            if not todo:
                continue
            names = ", ".join(role_name(estate, r) for r in todo)
            level = scope_level(need.scope).replace("_", " ")
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=assignment.id,
                severity="high",
                title=f"Identity of '{assignment.display_name}' lacks {names} at {level} {need.scope}",
                detail=(
                    f"The {needs.identity} (principal {needs.principal_id}) needs {names} at {need.scope} for: "
                    f"{'; '.join(need.reasons)}. Without it remediation deployments fail with "
                    f"AuthorizationFailed.{_held_note(ctx, needs, need.scope, todo, vm_policy)}"
                ),
                doc=DOC,
                fixable=True,
                key=f"{needs.principal_id.lower()}|{need.scope.lower()}",
                data={
                    "assignment_id": assignment.id,
                    "principal_id": needs.principal_id,
                    "identity": needs.identity,
                    "scope": need.scope,
                    "roles": list(todo),
                    "reasons": list(need.reasons),
                },
            )


def _role_definition_id(scope: str, guid: str) -> str:
    parts = [p for p in scope.split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return f"/subscriptions/{parts[1]}/providers/Microsoft.Authorization/roleDefinitions/{guid}"
    return f"/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    scope = str(finding.data.get("scope") or "")
    principal = str(finding.data.get("principal_id") or "")
    roles = finding.data.get("roles") or ()
    if not finding.fixable or not scope or not principal or not isinstance(roles, list):
        return ()
    changes = []
    for guid in roles:
        if guid in FORBIDDEN_ROLES:
            continue
        name = role_assignment_name(scope, principal, str(guid))
        role_id = _role_definition_id(scope, str(guid))
        changes.append(
            Change(
                finding_id=finding.id,
                playbook=PLAYBOOK_ID,
                resource_id=scope.rstrip("/") + ROLE_ASSIGNMENTS_SEGMENT + name,
                action="create-role-assignment",
                before={"principalId": None, "roleDefinitionId": None},
                # The action reads roleDefinitionId back scope-free, whatever form ARM returns.
                after={
                    "principalId": principal.lower(),
                    "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{str(guid).lower()}",
                },
                params={
                    "scope": scope,
                    "name": name,
                    "principal_id": principal,
                    "role_definition_id": role_id,
                    "principal_type": "ServicePrincipal",
                    "description": f"aum-remediator: for policy assignment {finding.data.get('assignment_id')}",
                },
                order=ROLE_ORDER,
                # The remediation tasks of this assignment wait for its roles (held back if this fails).
                provides=(roles_of(str(finding.data.get("assignment_id", ""))),),
            )
        )
    return changes


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Roles an Update Manager policy assignment's managed identity lacks",
        doc=DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(
            resource_types=POLICY_INVENTORY_TYPES | {ROLE_ASSIGNMENT, ROLE_DEFINITION},
            policy_states=True,
            # Built-in roles are read by id (Resource Graph may not return them to a subscription-scoped
            # query); custom roles come in bulk with the role definitions in authorizationresources.
            definitions=AUM_BUILTIN_IDS | BUILTIN_ROLE_IDS,
        ),
        permissions=("Microsoft.Authorization/roleAssignments/write",),
        read_permissions=(
            "Microsoft.Authorization/roleAssignments/read",
            "Microsoft.Authorization/roleDefinitions/read",
            "Microsoft.Authorization/policyAssignments/read",
            "Microsoft.Authorization/policyDefinitions/read",
            "Microsoft.Authorization/policySetDefinitions/read",
            "Microsoft.ManagedIdentity/userAssignedIdentities/read",
        ),
        fix_default=True,
        phase=30,
        options_schema=OPTIONS_SCHEMA,
    )
)
