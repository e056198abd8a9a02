"""Where an Update Manager assignment's identity needs roles, and which of them it lacks.

Three sources of need, per assignment whose definition can remediate:

1. the assignment's own scope (the definition's ``roleDefinitionIds``), narrowed to the
   machines' subscriptions or resource groups when the config forbids granting that broadly;
2. resources outside that scope which a remediation must read for a non-compliant VM (gallery
   image, managed disks, disk encryption sets) or which a parameter marked ``assignPermissions``
   names (the scheduling policy's maintenance configuration): at the resource, or its group;
3. remediation deployments that already failed with ``AuthorizationFailed``/``Forbidden``: the
   scope ARM named in the error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from remediator import Context, PolicyState, Resource

from ._policy_model import (
    MANAGEMENT_GROUP,
    REMEDIATION,
    UNKNOWN_PRINCIPAL,
    Assignment,
    Member,
    identity_principals,
    is_aum_definition,
)
from ._policy_rbac import (
    FORBIDDEN_ROLES,
    ancestors,
    level_rank,
    missing,
    role_guid,
    scope_at_level,
    scope_level,
)
from ._policy_targets import linked_resources

AUTHORIZATION_ERRORS = frozenset({"authorizationfailed", "forbidden", "linkedauthorizationfailed"})
_SCOPE_IN_MESSAGE = re.compile(r"over scope '([^']+)'", re.IGNORECASE)
_LINKED_SCOPE = re.compile(r"(?:on|over) (?:the )?linked scope\(s\) '([^']+)'", re.IGNORECASE)


@dataclass
class Need:
    scope: str
    roles: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def add(self, roles: list[str], reason: str) -> None:
        self.roles += [r for r in roles if r not in self.roles]
        if reason not in self.reasons:
            self.reasons.append(reason)


@dataclass(frozen=True)
class AssignmentNeeds:
    assignment: Assignment
    principal_id: str
    identity: str
    problem: str  # non-fixable: no identity, deleted identity, forbidden role ("" when fine)
    lacking: tuple[tuple[Need, tuple[str, ...]], ...]  # (need, roles lacking there)
    # Needs at a management group the inventory did not read: its role assignments are unknown.
    unverifiable: tuple[Need, ...] = ()


def aum_members(ctx: Context, assignment: Assignment) -> list[Member]:
    custom = [str(c) for c in ctx.option("custom_definitions", ())]
    return [m for m in assignment.members(ctx.estate) if is_aum_definition(m.definition_id, custom) and m.remediable]


def _noncompliant_states(ctx: Context) -> dict[str, list[PolicyState]]:
    """Non-compliant states by assignment, built once per estate (detect asks for every assignment)."""

    def build() -> dict[str, list[PolicyState]]:
        by_assignment: dict[str, list[PolicyState]] = {}
        for state in ctx.estate.policy_states:
            if state.compliance_state.lower() == "noncompliant":
                by_assignment.setdefault(state.policy_assignment_id.lower(), []).append(state)
        return by_assignment

    return ctx.memo("policy-noncompliant-states", build)


def _noncompliant_machines(ctx: Context, assignment: Assignment) -> dict[str, tuple[Resource, str]]:
    """Lowercase machine id -> (machine, reference id) for the assignment's non-compliant machines."""
    out: dict[str, tuple[Resource, str]] = {}
    for state in _noncompliant_states(ctx).get(assignment.id.lower(), ()):
        machine = ctx.estate.get(state.resource_id)
        if machine is not None:
            out.setdefault(machine.key, (machine, state.policy_definition_reference_id))
    return dict(sorted(out.items()))


def _failed_deployment_scopes(ctx: Context, assignment: Assignment) -> Iterator[tuple[str, str, str]]:
    """(scope, reference id, error summary) from failed deployments of the assignment's remediations."""
    for remediation in sorted(ctx.estate.of_type(REMEDIATION), key=lambda r: r.key):
        props = remediation.properties
        if str(props.get("policyAssignmentId") or "").lower() != assignment.id.lower():
            continue
        deployments = props.get("deployments") or remediation.raw.get("deployments") or ()
        for deployment in deployments:
            error = deployment.get("error") if isinstance(deployment, Mapping) else None
            if not isinstance(error, Mapping):
                continue
            if str(error.get("code") or "").lower() not in AUTHORIZATION_ERRORS:
                continue
            message = str(error.get("message") or "")
            for pattern in (_SCOPE_IN_MESSAGE, _LINKED_SCOPE):
                for found in pattern.findall(message):
                    for scope in str(found).split(","):
                        yield (
                            scope.strip(),
                            str(props.get("policyDefinitionReferenceId") or ""),
                            f"remediation {remediation.name} failed: {error.get('code')}",
                        )


def _roles_for(members: list[Member], reference_id: str) -> list[str]:
    chosen = [m for m in members if not reference_id or m.reference_id.lower() == reference_id.lower()]
    return list(dict.fromkeys(role_guid(r) for m in (chosen or members) for r in m.role_definition_ids))


def assignment_needs(ctx: Context, assignment: Assignment, members: list[Member]) -> AssignmentNeeds:
    estate = ctx.estate
    principals = identity_principals(estate, assignment)
    if not principals:
        return AssignmentNeeds(assignment, "", "", "no managed identity", ())
    principal, identity = principals[0]
    if not principal:
        problem = "identity unknown" if identity == UNKNOWN_PRINCIPAL else "identity no longer exists"
        return AssignmentNeeds(assignment, "", identity, problem, ())
    all_roles = _roles_for(members, "")
    forbidden = [r for r in all_roles if r in FORBIDDEN_ROLES]
    if forbidden:
        return AssignmentNeeds(assignment, principal, identity, "forbidden role:" + ",".join(forbidden), ())
    # A run scoped to subscriptions grants at most at a subscription unless the config says more.
    run_level = "subscription" if ctx.scope.subscriptions and not ctx.scope.management_group else "management_group"
    max_level = str(ctx.option("max_scope", run_level))
    linked_level = str(ctx.option("linked_scope", "resource"))
    linked_role = ctx.option("linked_role", None)
    needs: dict[str, Need] = {}

    def need(scope: str, roles: list[str], reason: str) -> None:
        if level_rank(scope_level(scope)) > level_rank(max_level):
            return  # never broader than the config allows; the narrowed needs below cover the machines
        needs.setdefault(scope.lower(), Need(scope)).add(roles, reason)

    # An excluded machine gets nothing granted on its behalf (not even on its linked image).
    machines = {k: v for k, v in _noncompliant_machines(ctx, assignment).items() if not ctx.excluded(v[0].id)}
    assignment_chain_key = assignment.scope.lower()
    # A management group covers whole subscriptions: those its machines live in are inside it even
    # when the hierarchy itself was not read.
    inside = {machine.subscription_id.lower() for machine, _ in machines.values()}
    if scope_level(assignment.scope) != "management_group":
        inside = set()
    if level_rank(scope_level(assignment.scope)) <= level_rank(max_level):
        need(assignment.scope, all_roles, "remediations across the assignment's scope")
    else:
        for machine, reference in machines.values():
            narrowed = scope_at_level(machine.id, max_level)
            need(narrowed, _roles_for(members, reference), f"non-compliant machine {machine.name}")
    linked: list[tuple[str, list[str], str]] = []
    for member in members:
        roles = _roles_for(members, member.reference_id)
        for pid in member.linked_parameter_ids():
            linked.append((pid, roles, f"{pid.rstrip('/').rsplit('/', 1)[-1]}, named by the assignment's parameters"))
    for machine, reference in machines.values():
        roles = _roles_for(members, reference)
        linked += [(lid, roles, f"{what} of {machine.name}") for lid, what in linked_resources(machine)]
    for linked_id, roles, reason in linked:
        if assignment_chain_key in ancestors(ctx, linked_id) or _subscription_inside(linked_id, inside):
            continue  # inside the assignment's scope: covered by the grant there
        grant = [role_guid(str(linked_role))] if linked_role else roles
        need(scope_at_level(linked_id, linked_level), grant, reason)
    if ctx.option("read_failed_deployments", True):
        for scope, reference, summary in _failed_deployment_scopes(ctx, assignment):
            # An error message is not a trustworthy place to learn a broad scope from: only what
            # sits in a subscription (a linked disk, image, encryption set or their group) is granted.
            if not scope.lower().startswith("/subscriptions/") or scope_level(scope) == "subscription":
                continue
            need(scope, _roles_for(members, reference), summary)
    visible_groups = {group.key for group in estate.of_type(MANAGEMENT_GROUP)}
    lacking = []
    unverifiable = []
    for item in needs.values():
        absent = missing(ctx, principal, item.roles, item.scope)
        if absent and scope_level(item.scope) == "management_group" and item.scope.lower() not in visible_groups:
            unverifiable.append(item)
        elif absent:
            lacking.append((item, absent))
    return AssignmentNeeds(assignment, principal, identity, "", tuple(lacking), tuple(unverifiable))


def _subscription_inside(resource_id: str, subscriptions: set[str]) -> bool:
    parts = [p for p in resource_id.split("/") if p]
    return len(parts) > 1 and parts[0].lower() == "subscriptions" and parts[1].lower() in subscriptions
