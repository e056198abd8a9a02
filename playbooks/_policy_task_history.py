"""What earlier remediation tasks mean for a machine that is still non-compliant (policy-remediation).

Azure does not flip a machine's compliance state when a remediation deployment succeeds: the
machine is re-evaluated about 15 minutes after the change, on the 24-hour cycle, or after an
on-demand scan (get-compliance-data.md, "Evaluation triggers"). So a non-compliant state right
after a task is not news. For one machine and one (assignment, definition reference):

* a task that covers it and is still running: nothing new to start;
* a task that covers it and succeeded (``Succeeded``, or ``Complete``: remediation-structure.md
  lists both as terminal) less than ``evaluation_window_minutes`` ago: **awaiting evaluation**;
* a task that covers it and failed (or was canceled) less than ``retry_failed_after_hours`` ago:
  **backing off**, with the cause read from the task's deployment for that machine; a task that
  ended during this run is never retried in it (its end is after the run's clock).

Past those windows the same work is planned again under the same deterministic name (a re-run of
the task, never a ``-2`` sibling).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from remediator import Context, Estate, Resource

from ._policy_model import REMEDIATION, RUNNING_STATES

SUCCEEDED_STATES = frozenset({"succeeded", "complete"})
FAILED_STATES = frozenset({"failed", "canceled"})
IN_PROGRESS_STATES = RUNNING_STATES | {"cancelling"}
DEFAULT_EVALUATION_WINDOW_MINUTES = 30  # twice Azure's "around 15 minutes"
DEFAULT_RETRY_FAILED_AFTER_HOURS = 6.0

REMEDIATIONS_MARKER = "/providers/microsoft.policyinsights/remediations/"


@dataclass(frozen=True)
class EarlierTask:
    """A task that already covers the machine, and what it means now."""

    status: str  # "running" | "awaiting-evaluation" | "backing-off"
    task: Resource
    # The task failed as a whole, but its deployment for this machine succeeded.
    machine_succeeded: bool = False
    ended: datetime | None = None
    retry_after: datetime | None = None
    cause: str = ""  # for a failed task: its deployment's error for this machine

    @property
    def state(self) -> str:
        return str(self.task.properties.get("provisioningState") or "")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _scope(task: Resource) -> str:
    lowered = task.id.lower()
    cut = lowered.rfind(REMEDIATIONS_MARKER)
    return lowered[:cut] if cut >= 0 else ""


def covers(task: Resource, machine: Resource) -> bool:
    """Whether the task's scope and filters take in the machine."""
    scope = _scope(task)
    machine_id = machine.id.lower()
    if scope and not (machine_id == scope or machine_id.startswith(scope + "/")):
        return False
    filters = task.properties.get("filters")
    filters = filters if isinstance(filters, Mapping) else {}
    ids = {str(i).lower() for i in filters.get("resourceIds") or ()}
    if ids and machine_id not in ids:
        return False
    locations = {str(x).lower().replace(" ", "") for x in filters.get("locations") or ()}
    return not locations or machine.location.lower().replace(" ", "") in locations


def tasks_by_member(estate: Estate) -> dict[tuple[str, str], list[Resource]]:
    """Every task in the inventory by (assignment id, definition reference id), lowercase."""
    out: dict[tuple[str, str], list[Resource]] = {}
    for task in estate.of_type(REMEDIATION):
        props = task.properties
        key = (
            str(props.get("policyAssignmentId") or "").lower(),
            str(props.get("policyDefinitionReferenceId") or "").lower(),
        )
        out.setdefault(key, []).append(task)
    return out


def _deployment(task: Resource, machine: Resource) -> Mapping[str, Any] | None:
    """The task's deployment for this machine, when the inventory read them (failed tasks)."""
    deployments = task.properties.get("deployments")
    for deployment in deployments if isinstance(deployments, list) else ():
        if not isinstance(deployment, Mapping):
            continue
        target = str(deployment.get("remediatedResourceId") or deployment.get("remediated_resource_id") or "")
        if target.lower() == machine.id.lower():
            return deployment
    return None


def _cause(task: Resource, machine: Resource) -> str:
    deployment = _deployment(task, machine)
    if deployment is not None:
        error = deployment.get("error")
        if isinstance(error, Mapping) and (error.get("code") or error.get("message")):
            return f"{error.get('code') or 'Error'}: {error.get('message') or ''}".strip()
        return f"its deployment ended {deployment.get('status') or 'without success'}"
    message = task.properties.get("statusMessage")
    return str(message) if message else "the task failed before a deployment for this machine ran"


def earlier_task(ctx: Context, tasks: list[Resource], machine: Resource) -> EarlierTask | None:
    """The most telling task among ``tasks`` (same assignment and reference) that covers ``machine``."""
    now = ctx.estate.now
    window = timedelta(minutes=float(ctx.option("evaluation_window_minutes", DEFAULT_EVALUATION_WINDOW_MINUTES)))
    backoff = timedelta(hours=float(ctx.option("retry_failed_after_hours", DEFAULT_RETRY_FAILED_AFTER_HOURS)))
    covering = [t for t in tasks if covers(t, machine)]

    def ended(task: Resource) -> datetime:
        props = task.properties
        return _time(props.get("lastUpdatedOn")) or _time(props.get("createdOn")) or datetime.min.replace(tzinfo=UTC)

    for task in sorted(covering, key=ended, reverse=True):
        state = str(task.properties.get("provisioningState") or "").lower()
        if state in IN_PROGRESS_STATES:
            return EarlierTask("running", task)
        end = ended(task)
        # A failed task whose deployment for this machine succeeded did this machine's work.
        deployment = _deployment(task, machine)
        done_here = state in FAILED_STATES and str((deployment or {}).get("status")).lower() == "succeeded"
        if (state in SUCCEEDED_STATES or done_here) and now < end + window:
            return EarlierTask("awaiting-evaluation", task, ended=end, machine_succeeded=done_here)
        if state in FAILED_STATES and now < end + backoff:
            return EarlierTask("backing-off", task, ended=end, retry_after=end + backoff, cause=_cause(task, machine))
        return None  # the newest covering task is past its window: plan the work again
    return None
