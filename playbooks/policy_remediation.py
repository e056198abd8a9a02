"""policy-remediation: remediation tasks for the machines Update Manager policies missed.

troubleshoot.md, "Periodic assessment isn't set correctly" and "Prerequisite for scheduled
patching isn't set correctly": specialized, generalized, migrated and restored VMs are created
by paths the modify / deployIfNotExists policies do not act on, and stay non-compliant until a
remediation task runs. One finding per machine (why it was missed, which assignment and
definition reference it fails); the changes are remediation tasks grouped per (assignment,
definition reference, scope), at most 100 machines each when filtered by resource id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from remediator import Change, Context, Finding, Needs, Playbook, register

from ._policy_model import (
    AUM_BUILTIN_IDS,
    POLICY_INVENTORY_TYPES,
)
from ._policy_options import check_options
from ._policy_rbac import ROLE_NAMES
from ._policy_remediation_plan import Target, targets_and_tasks, task_change, tasks_for
from ._policy_task_history import EarlierTask

PLAYBOOK_ID = "policy-remediation"
DOC = "troubleshoot.md#periodic-assessment-isnt-set-correctly"
DOC_SCHEDULING = "troubleshoot.md#prerequisite-for-scheduled-patching-isnt-set-correctly"

OPTIONS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "custom_definitions": {
            "type": "array",
            "items": {"type": "string", "pattern": "^/"},
            "description": "Custom policy definition ids to treat as Update Manager policies (besides the built-ins)",
        },
        "resource_discovery_mode": {
            "enum": ["ExistingNonCompliant", "ReEvaluateCompliance"],
            "description": "ReEvaluateCompliance rescans first; it cannot filter by resource id (tasks use locations)",
        },
        "filter": {"enum": ["resourceIds", "locations"], "description": "How a task names its machines"},
        "task_scope": {
            "enum": ["assignment", "subscription", "resource_group"],
            "description": "Where tasks go: the assignment's scope, or narrower (default: subscription)",
        },
        "max_resources_per_task": {"type": "integer", "minimum": 1, "maximum": 100},
        "resource_count": {"type": "integer", "minimum": 1, "maximum": 50000, "description": "Default 500"},
        "parallel_deployments": {"type": "integer", "minimum": 1, "maximum": 30, "description": "Default 10"},
        "failure_threshold": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "Stop a task once this fraction of its deployments failed (ARM's default: 1)",
        },
        "trigger_evaluation": {
            "type": "boolean",
            "description": "After the tasks, one on-demand compliance scan per scope they touched (default false)",
        },
        "evaluation_scan_wait_seconds": {
            "type": "number",
            "minimum": 0,
            "maximum": 3600,
            "description": "Seconds to wait for a compliance scan (default 300); a longer one is reported as timed out",
        },
        "evaluation_window_minutes": {
            "type": "number",
            "minimum": 0,
            "maximum": 1440,
            "description": "A machine a task succeeded for this recently is awaiting evaluation, not re-remediated "
            "(default 30; Azure re-evaluates a changed machine about 15 minutes later)",
        },
        "retry_failed_after_hours": {
            "type": "number",
            "minimum": 0,
            "maximum": 720,
            "description": "A failed task is planned again only this long after it ended (default 6); never in the "
            "run that saw it fail",
        },
        "remediate_do_not_enforce": {
            "type": "boolean",
            "description": "Also remediate assignments whose enforcementMode is DoNotEnforce (default false)",
        },
        "api_version": {
            "type": "string",
            "description": "Remediations api-version (default 2024-10-01 with resourceIds, else 2021-10-01)",
        },
    },
}


def role_name(guids: tuple[str, ...]) -> list[str]:
    return [ROLE_NAMES.get(guid, guid) for guid in guids]


def _earlier_tail(earlier: EarlierTask) -> str:
    name = earlier.task.name
    if earlier.status == "running":
        return f"Remediation task {name} covering it is still {earlier.state}; no new task."
    if earlier.status == "awaiting-evaluation":
        what = (
            f"its deployment in remediation task {name} (which ended {earlier.state}) succeeded"
            if earlier.machine_succeeded
            else f"remediation task {name} covering it ended {earlier.state}"
        )
        return (
            f"Awaiting evaluation: {what} at {_stamp(earlier.ended)}; Azure re-evaluates a changed machine "
            "about 15 minutes later, so no new task."
        )
    return (
        f"Remediation task {name} covering it ended {earlier.state} at {_stamp(earlier.ended)}: {earlier.cause}. "
        f"It is not retried before {_stamp(earlier.retry_after)} "
        "(playbooks.policy-remediation.options.retry_failed_after_hours)."
    )


def _stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "an unknown time"


def _earlier_data(earlier: EarlierTask) -> dict[str, object]:
    data: dict[str, object] = {"status": earlier.status, "remediation_id": earlier.task.id, "state": earlier.state}
    if earlier.ended:
        data["ended"] = _stamp(earlier.ended)
    if earlier.retry_after:
        data["retry_after"] = _stamp(earlier.retry_after)
    if earlier.cause:
        data["cause"] = earlier.cause
    return data


def _finding(target: Target, task: dict[str, Any] | None) -> Finding:
    machine = target.machine
    reference = f", definition reference '{target.reference_id}'" if target.reference_id else ""
    if target.blocked:
        fixable, tail = False, f"No remediation task can run: {target.blocked}."
    elif target.earlier is not None:
        fixable, tail = True, _earlier_tail(target.earlier)
    elif target.running:
        fixable, tail = True, f"Remediation task {target.running} is still running for this assignment; no new task."
    else:
        fixable, tail = True, "A remediation task brings it into compliance."
    if target.role_gaps and not target.blocked:
        gaps = "; ".join(f"{', '.join(role_name(roles))} at {scope}" for scope, roles in target.role_gaps)
        tail += (
            f" Its identity lacks {gaps}, as the definition names them: policy-identity-roles grants them before "
            "the task runs; without them this machine's deployment may fail with AuthorizationFailed."
        )
    detail = (
        f"Policy missed it because {'; and '.join(target.reasons)}. It fails assignment "
        f"'{target.assignment.display_name}' ({target.assignment.id}){reference}, definition "
        f"'{target.definition_name}' ({target.effect}). {tail}"
    )
    data: dict[str, object] = {
        "assignment_id": target.assignment.id,
        "reference_id": target.reference_id,
        "definition_id": target.definition_id,
        "effect": target.effect,
        "reasons": list(target.reasons),
        "task_scope": target.task_scope,
    }
    if target.running:
        data["running_task"] = target.running
    if target.earlier is not None:
        data["earlier_task"] = _earlier_data(target.earlier)
    if target.role_gaps:
        data["role_gaps"] = [{"scope": scope, "roles": list(roles)} for scope, roles in target.role_gaps]
    if task:
        data["task"] = {
            "name": task["name"],
            "remediation_id": task["remediation_id"],
            "machines": len(task["resource_ids"]),
        }
    return Finding(
        playbook=PLAYBOOK_ID,
        resource_id=machine.id,
        severity="medium",
        title=f"{machine.name} is non-compliant with '{target.definition_name}' and was never remediated",
        detail=detail,
        doc=DOC_SCHEDULING if target.effect == "deployifnotexists" else DOC,
        fixable=fixable,
        key=f"{target.assignment.id.lower()}|{target.reference_id.lower()}",
        data=data,
    )


def detect(ctx: Context) -> Iterable[Finding]:
    check_options(PLAYBOOK_ID, OPTIONS_SCHEMA, ctx.options)
    targets, tasks = targets_and_tasks(ctx)
    for target in targets:
        yield _finding(target, tasks.get((target.machine.key, target.key)))


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    if not finding.fixable or not isinstance(finding.data.get("task"), Mapping):
        return ()
    key = (finding.resource_id.lower(), finding.key)
    task = tasks_for(ctx).get(key)
    return (task_change(finding, task),) if task else ()


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Remediation tasks for machines an Update Manager policy missed",
        doc=DOC,
        severity="medium",
        detect=detect,
        plan=plan,
        needs=Needs(
            resource_types=POLICY_INVENTORY_TYPES | {"microsoft.compute/galleries/images"},
            policy_states=True,
            definitions=AUM_BUILTIN_IDS,
        ),
        permissions=(
            "Microsoft.PolicyInsights/remediations/write",
            "Microsoft.PolicyInsights/remediations/read",
            "Microsoft.PolicyInsights/remediations/listDeployments/read",
            "Microsoft.PolicyInsights/policyStates/triggerEvaluation/action",
        ),
        read_permissions=(
            "Microsoft.PolicyInsights/policyStates/queryResults/action",
            "Microsoft.Authorization/policyAssignments/read",
            "Microsoft.Authorization/policyDefinitions/read",
            "Microsoft.Authorization/policySetDefinitions/read",
        ),
        fix_default=True,
        phase=40,
        options_schema=OPTIONS_SCHEMA,
    )
)
