"""Which machines need a remediation task, and how the tasks are grouped (policy-remediation).

Tasks are grouped per (assignment, definition reference id, task scope). With the
``resourceIds`` filter a task names at most 100 machines (ARM's limit), so a large group becomes
several tasks; with the ``locations`` filter one task per group covers the machines' regions.
Task names are deterministic (a hash of what the task covers) so a re-plan of the same estate
proposes the same names, and the same work always gets the same name: a task planned again after
its window (``_policy_task_history``) re-runs under its own name, never as a ``-2`` sibling.
Machines an earlier task covers (running, awaiting evaluation, or failed and backing off) get no
new task.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediator import Change, Context, Estate, Finding, PolicyState, Resource, roles_of

from ._policy_model import (
    ARC_MACHINE,
    REMEDIABLE_EFFECTS,
    UNKNOWN_PRINCIPAL,
    VIRTUAL_MACHINE,
    Assignment,
    Member,
    identity_principals,
    is_aum_definition,
    last_segment,
    lookup_definition,
    properties_of,
    running_remediations,
)
from ._policy_rbac import ancestors, level_rank, missing, role_guid, scope_at_level, scope_level
from ._policy_targets import linked_resources, missed_reasons
from ._policy_task_history import EarlierTask, earlier_task, tasks_by_member

REMEDIATIONS_SEGMENT = "/providers/Microsoft.PolicyInsights/remediations/"
MAX_RESOURCE_IDS = 100
# filters.resourceIds exists from 2024-10-01 (the 2021-10-01 spec's RemediationFilters has only
# locations, and ARM ignores what an api-version does not define: the task would remediate every
# non-compliant machine in its scope). resourceCount/parallelDeployments/failureThreshold: 2021-10-01.
RESOURCE_IDS_API_VERSION = "2024-10-01"
LOCATIONS_API_VERSION = "2021-10-01"
DEFAULT_RESOURCE_COUNT = 500
DEFAULT_PARALLEL_DEPLOYMENTS = 10
# Roles before remediations: policy-identity-roles' grants use a lower order.
REMEDIATION_ORDER = 60


@dataclass(frozen=True)
class Target:
    machine: Resource
    assignment: Assignment
    member: Member
    reasons: tuple[str, ...]
    task_scope: str
    blocked: str  # why no task can run ("" when one can)
    running: str  # id of a task still running for this assignment and reference ("" when none)
    # (scope, role guids) the assignment's identity lacks for this machine's deployment.
    role_gaps: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # A task that already covers this machine (running, awaiting evaluation, backing off).
    earlier: EarlierTask | None = None

    @property
    def reference_id(self) -> str:
        return self.member.reference_id

    @property
    def definition_id(self) -> str:
        return self.member.definition_id

    @property
    def effect(self) -> str:
        return self.member.effect

    @property
    def definition_name(self) -> str:
        name = properties_of(self.member.definition).get("displayName")
        return str(name) if name else last_segment(self.definition_id)

    @property
    def key(self) -> str:
        return f"{self.assignment.id.lower()}|{self.reference_id.lower()}"


def _task_scope(option: str, assignment: Assignment, machine: Resource) -> str:
    """Where the task goes: the assignment's scope, or narrower (never broader) as configured."""
    if option == "assignment":
        return assignment.scope
    wanted = "resource_group" if option == "resource_group" else "subscription"
    if level_rank(scope_level(assignment.scope)) <= level_rank(wanted):
        return assignment.scope
    return scope_at_level(machine.id, wanted)


def _blocked(ctx: Context, assignment: Assignment) -> str:
    enforcement = str(assignment.resource.properties.get("enforcementMode") or "Default")
    if enforcement.lower() == "donotenforce" and not ctx.option("remediate_do_not_enforce", False):
        # Owners set DoNotEnforce to try an assignment out; a task would enforce it for them.
        return (
            "the assignment's enforcementMode is DoNotEnforce (a what-if); set "
            "playbooks.policy-remediation.options.remediate_do_not_enforce: true to remediate it anyway"
        )
    principals = identity_principals(ctx.estate, assignment)
    if not principals:
        return "the assignment has no managed identity (see policy-identity-roles)"
    if all(not principal for principal, _ in principals):
        what = principals[0][1]
        if what == UNKNOWN_PRINCIPAL:
            return ""  # the task can run; only its roles cannot be checked (policy-identity-roles says so)
        return f"the assignment's identity ({what}) no longer exists (see policy-identity-roles)"
    return ""


UNSEEN = (
    "the assignment is not in the inventory, so its identity cannot be checked; it is probably assigned at a "
    "management group above this run's scope: run with --management-group"
)


def _state_properties(state: PolicyState) -> Mapping[str, Any]:
    props = state.raw.get("properties")
    return props if isinstance(props, Mapping) else state.raw


def _unseen_assignment(state: PolicyState) -> Resource:
    """A stand-in for an assignment the inventory could not read, from what its policy state says."""
    scope = str(_state_properties(state).get("policyAssignmentScope") or "")
    return Resource.from_arm(
        {
            "id": state.policy_assignment_id,
            "type": "Microsoft.Authorization/policyAssignments",
            "properties": {
                "policyDefinitionId": state.policy_set_definition_id or state.policy_definition_id,
                "scope": scope,
            },
        }
    )


@dataclass
class _Resolved:
    """What every state of one (assignment, definition, reference) shares: resolved once."""

    assignment: Assignment
    member: Member
    remediable: bool
    blocked: str
    running: str
    principal: str = ""


def _resolve(ctx: Context, state: PolicyState) -> _Resolved:
    estate = ctx.estate
    assignment_resource = estate.get(state.policy_assignment_id)
    unseen = assignment_resource is None
    assignment = Assignment(assignment_resource or _unseen_assignment(state))
    member = assignment.member(estate, state.policy_definition_id, state.policy_definition_reference_id)
    if member is None:
        member = Member(
            state.policy_definition_id,
            state.policy_definition_reference_id,
            lookup_definition(estate, state.policy_definition_id),
            assignment.parameters if not assignment.is_initiative else {},
        )
    # Audit-only or disabled assignments (and unknown definitions) are never remediated. When the
    # assignment or its initiative could not be read, its parameters are unknown: the state's own
    # policyDefinitionAction (Resource Graph carries it) is the better witness.
    action = str(_state_properties(state).get("policyDefinitionAction") or "").lower()
    guessed = unseen or not assignment.resolvable(estate)
    remediable = action in REMEDIABLE_EFFECTS if guessed and action else member.remediable
    running = running_remediations(estate, assignment.id, member.reference_id) if remediable else ()
    principals = identity_principals(estate, assignment)
    return _Resolved(
        assignment=assignment,
        member=member,
        remediable=remediable,
        blocked=UNSEEN if unseen else _blocked(ctx, assignment),
        running=running[0].id if running else "",
        principal=principals[0][0] if principals and not unseen else "",
    )


def _role_gaps(ctx: Context, shared: _Resolved, machine: Resource) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Where the identity lacks the definition's roles for this machine (what policy-identity-roles grants)."""
    if not shared.principal:
        return ()
    roles = [role_guid(r) for r in shared.member.role_definition_ids]
    inside = shared.assignment.scope.lower()
    scopes = [shared.assignment.scope]
    scopes += [rid for rid, _ in linked_resources(machine) if inside not in ancestors(ctx.estate, rid)]
    gaps = ((scope, missing(ctx.estate, shared.principal, roles, scope)) for scope in scopes)
    return tuple((scope, absent) for scope, absent in gaps if absent)


def remediable_targets(ctx: Context) -> list[Target]:
    """One target per (machine, assignment, reference) that a remediation task could fix."""
    estate = ctx.estate
    custom = [str(c) for c in ctx.option("custom_definitions", ())]
    scope_option = str(ctx.option("task_scope", "subscription"))
    seen: set[tuple[str, str]] = set()
    resolved: dict[tuple[str, str, str], _Resolved] = {}
    history = tasks_by_member(estate)
    out: list[Target] = []
    states = sorted(
        estate.policy_states,
        key=lambda s: (s.resource_id.lower(), s.policy_assignment_id.lower(), s.policy_definition_reference_id),
    )
    for state in states:
        if state.compliance_state.lower() != "noncompliant":
            continue
        if not is_aum_definition(state.policy_definition_id, custom):
            continue
        machine = estate.get(state.resource_id)
        if machine is None or machine.type_key not in (VIRTUAL_MACHINE, ARC_MACHINE):
            continue
        # An excluded machine must not ride along in another machine's task: it is kept as a
        # blocked target, so a locations filter can leave its location out too.
        excluded = ctx.excluded(machine.id)
        shared_key = (
            state.policy_assignment_id.lower(),
            state.policy_definition_id.lower(),
            state.policy_definition_reference_id.lower(),
        )
        if shared_key not in resolved:
            resolved[shared_key] = _resolve(ctx, state)
        shared = resolved[shared_key]
        if not shared.remediable:
            continue
        key = (machine.key, f"{shared.assignment.id.lower()}|{shared.member.reference_id.lower()}")
        if key in seen:
            continue
        seen.add(key)
        member_tasks = history.get((shared.assignment.id.lower(), shared.member.reference_id.lower()), [])
        earlier = earlier_task(ctx, member_tasks, machine) if member_tasks else None
        out.append(
            Target(
                machine=machine,
                assignment=shared.assignment,
                member=shared.member,
                reasons=missed_reasons(estate, machine),
                task_scope=_task_scope(scope_option, shared.assignment, machine),
                blocked=EXCLUDED if excluded else shared.blocked,
                running=shared.running,
                role_gaps=_role_gaps(ctx, shared, machine),
                earlier=earlier,
            )
        )
    return out


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def _task(ctx: Context, group: list[Target], scope: str, filters: dict[str, list[str]]) -> dict[str, Any]:
    first = group[0]
    mode = str(ctx.option("resource_discovery_mode", "ExistingNonCompliant"))
    props: dict[str, Any] = {"policyAssignmentId": first.assignment.id, "resourceDiscoveryMode": mode}
    if first.reference_id:
        props["policyDefinitionReferenceId"] = first.reference_id
    props["filters"] = filters
    props["resourceCount"] = int(ctx.option("resource_count", DEFAULT_RESOURCE_COUNT))
    props["parallelDeployments"] = int(ctx.option("parallel_deployments", DEFAULT_PARALLEL_DEPLOYMENTS))
    threshold = ctx.option("failure_threshold", None)
    if threshold is not None:
        props["failureThreshold"] = {"percentage": float(threshold)}
    name = "aum-" + _hash(first.key, scope.lower(), filters)
    # The same work re-run after its back-off: the task is there, in its terminal state.
    existing = ctx.estate.get(scope + REMEDIATIONS_SEGMENT + name)
    return {
        "existing_state": str(existing.properties.get("provisioningState") or "") if existing else None,
        "scope": scope,
        "name": name,
        "remediation_id": scope + REMEDIATIONS_SEGMENT + name,
        "body": {"properties": props},
        "resource_ids": [t.machine.id for t in group],
        "api_version": str(
            ctx.option("api_version", RESOURCE_IDS_API_VERSION if "resourceIds" in filters else LOCATIONS_API_VERSION)
        ),
        "trigger_evaluation": bool(ctx.option("trigger_evaluation", False)),
        "scan_wait_seconds": ctx.option("evaluation_scan_wait_seconds", None),
    }


EXCLUDED = "excluded by the run's guardrails"


def group_tasks(ctx: Context, targets: list[Target]) -> dict[tuple[str, str], dict[str, Any]]:
    """The task covering each target: ``{(machine key, target key): task}``.

    Every member of a group maps to the same task, so each member finding plans the same change
    (the engine keeps one): the task survives when the machine that sorts first is excluded.
    """
    mode = str(ctx.option("resource_discovery_mode", "ExistingNonCompliant"))
    # ARM refuses resourceIds together with ReEvaluateCompliance; locations are the only other filter.
    by_locations = ctx.option("filter", "resourceIds") == "locations" or mode == "ReEvaluateCompliance"
    chunk = min(int(ctx.option("max_resources_per_task", MAX_RESOURCE_IDS)), MAX_RESOURCE_IDS)
    groups: dict[tuple[str, str], list[Target]] = {}
    # Locations that hold an excluded machine of the group: a locations filter would remediate it.
    fenced: dict[tuple[str, str], set[str]] = {}
    for target in targets:
        group_key = (target.key, target.task_scope.lower())
        if target.blocked == EXCLUDED:
            fenced.setdefault(group_key, set()).add(target.machine.location.lower())
        if target.blocked or target.running or target.earlier:
            continue
        groups.setdefault(group_key, []).append(target)
    covering: dict[tuple[str, str], dict[str, Any]] = {}
    for group_key, members in groups.items():
        members.sort(key=lambda t: t.machine.key)
        scope = members[0].task_scope
        if by_locations:
            members = [t for t in members if t.machine.location.lower() not in fenced.get(group_key, set())]
            locations = sorted({t.machine.location.lower() for t in members if t.machine.location})
            parts = [(members, {"locations": locations})] if locations else []
        else:
            parts = [
                (members[i : i + chunk], {"resourceIds": [t.machine.id for t in members[i : i + chunk]]})
                for i in range(0, len(members), chunk)
            ]
        for part, filters in parts:
            task = _task(ctx, part, scope, filters)
            covering.update({(t.machine.key, t.key): task for t in part})
    return covering


# One plan phase asks for every member's task: compute the grouping once per estate and options.
# (A cache, not state: the result is a pure function of its inputs, which it keeps alive.)
Tasks = dict[tuple[str, str], dict[str, Any]]
_LAST: list[tuple[Estate, str, list[Target], Tasks]] = []


def targets_and_tasks(ctx: Context) -> tuple[list[Target], Tasks]:
    options_key = json.dumps(dict(ctx.options), sort_keys=True, default=str)
    for estate, key, targets, tasks in _LAST:
        if estate is ctx.estate and key == options_key:
            return targets, tasks
    targets = remediable_targets(ctx)
    tasks = group_tasks(ctx, targets)
    _LAST[:] = [(ctx.estate, options_key, targets, tasks)]
    return targets, tasks


def tasks_for(ctx: Context) -> Tasks:
    return targets_and_tasks(ctx)[1]


def task_change(finding: Finding, task: Mapping[str, Any]) -> Change:
    body = task["body"]
    return Change(
        finding_id=finding.id,
        playbook=finding.playbook,
        resource_id=str(task["remediation_id"]),
        action="create-remediation",
        before={"provisioningState": task.get("existing_state")},
        # What the task covers is in params; the state the engine verifies is the task's outcome.
        after={"provisioningState": "Succeeded"},
        params={
            "scope": task["scope"],
            "name": task["name"],
            "body": body,
            "api_version": task["api_version"],
            "resource_ids": list(task["resource_ids"]),
            "trigger_evaluation": task["trigger_evaluation"],
            # Only with a scan to wait for: a plan without one keeps its change ids.
            **(
                {"scan_wait_seconds": task["scan_wait_seconds"]}
                if task["trigger_evaluation"] and task["scan_wait_seconds"] is not None
                else {}
            ),
        },
        order=REMEDIATION_ORDER,
        # Its deployments run as the assignment's identity: not started when granting its roles failed.
        requires=(roles_of(str(body.get("properties", body).get("policyAssignmentId", ""))),),
    )
