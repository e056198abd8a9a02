"""maintenance-run-health: what the Maintenance service's own records show went wrong with a run.

troubleshoot-maintenance-configurations.md:

* "Apply Update stuck and Update not progressing": an ``applyUpdates`` record still Pending or
  InProgress long after it started (``stuck_hours``, default 6: past the longest InGuestPatch
  window, 3 h 55). Resolution: if the apply update is closed or not found, retry after 120 hours;
  if it persists, contact support.
* "Dedicated host configuration assignment not cleaned up after Dedicated Host removal": an
  assignment on a dedicated host that no longer exists.
* "Dedicated host updates even after Maintenance Configuration is attached": a host re-created
  with the same name keeps an assignment the service holds against the old host's id, so it no
  longer blocks updates. Evidence: the host's ``applyUpdates`` history from before its
  ``timeCreated`` (runs of the earlier host with this id). Resolution: remove the configuration
  assignment and assign it again.

Not detected: "Maintenance Configuration triggered again with older trigger time". Its signal is
when the configuration last changed relative to a run, and Resource Graph carries no
``systemData`` (only a per-configuration ARM GET does): without it, a run at an old time cannot
be told from one that simply preceded the change.

Report only: none of these has an API fix (retrying, waiting, support).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from remediator import Context, Finding, Needs, Playbook, register

from ._maintenance_model import (
    APPLY_UPDATE_TYPE,
    ASSIGNMENT_TYPE,
    CONFIGURATION_TYPE,
    assignments,
    resource_type_of,
    time_of,
)

PLAYBOOK_ID = "maintenance-run-health"
MC_DOC = "troubleshoot-maintenance-configurations.md#"
STUCK_DOC = MC_DOC + "apply-update-stuck-and-update-not-progressing"
HOST_DOC = MC_DOC + "dedicated-host-configuration-assignment-not-cleaned-up-after-dedicated-host-removal"
RECREATED_HOST_DOC = MC_DOC + "dedicated-host-updates-even-after-maintenance-configuration-is-attached"
HOST_TYPE = "microsoft.compute/hostgroups/hosts"
OPEN_STATES = frozenset({"pending", "inprogress"})


def _stuck(ctx: Context) -> Iterable[Finding]:
    limit = timedelta(hours=float(ctx.option("stuck_hours", 6)))
    for record in ctx.estate.of_type(APPLY_UPDATE_TYPE):
        props = record.properties
        status = str(props.get("status") or "")
        started = time_of(props.get("startDateTime") or props.get("lastUpdateTime"))
        if status.lower() not in OPEN_STATES or started is None or ctx.estate.now - started <= limit:
            continue
        target = str(props.get("resourceId") or record.id.split("/providers/")[0])
        hours = int((ctx.estate.now - started).total_seconds() // 3600)
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=target,
            severity="medium",
            title=f"Update {status} for {hours} hours on {target.rsplit('/', 1)[-1]}",
            detail=(
                f"The apply update {record.name} started {started:%Y-%m-%d %H:%M} UTC and is still {status}. A "
                "resource redeployed to another cluster keeps a pending update against the old cluster, which "
                "never progresses: if the apply update's status is closed or not found, retry after 120 hours; "
                "if it persists, contact support."
            ),
            doc=STUCK_DOC,
            fixable=False,
            key=f"stuck:{record.id.lower()}",
            data={"apply_update": record.id, "status": status, "started": started.isoformat()},
        )


def _orphaned_host_assignments(ctx: Context) -> Iterable[Finding]:
    for assignment in assignments(ctx.estate):
        if resource_type_of(assignment.target) != HOST_TYPE or ctx.estate.get(assignment.target) is not None:
            continue
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=assignment.id,
            severity="low",
            title=f"Assignment {assignment.name} outlived its dedicated host",
            detail=(
                f"{assignment.target} no longer exists but its configuration assignment does. Delete a dedicated "
                "host's maintenance configuration before deleting the host; if the deleted host still shows in "
                "the portal, contact support (the service's cleanup removes it without customer impact)."
            ),
            doc=HOST_DOC,
            fixable=False,
            key="host",
            data={"host": assignment.target, "configuration": assignment.configuration_id},
        )


def _recreated_hosts(ctx: Context) -> Iterable[Finding]:
    earlier: dict[str, str] = {}
    for record in ctx.estate.of_type(APPLY_UPDATE_TYPE):
        target = str(record.properties.get("resourceId") or "").lower()
        started = time_of(record.properties.get("startDateTime"))
        host = ctx.estate.get(target) if resource_type_of(target) == HOST_TYPE else None
        created = time_of(host.properties.get("timeCreated")) if host is not None else None
        if started is not None and created is not None and started < created:
            earlier[target] = started.isoformat()
    for assignment in assignments(ctx.estate):
        target = assignment.target.lower()
        if target not in earlier:
            continue
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=assignment.id,
            severity="high",
            title=f"Re-created dedicated host {target.rsplit('/', 1)[-1]} is not held by its configuration",
            detail=(
                f"{assignment.target} ran updates under maintenance control on {earlier[target]}, before it was "
                "created again with the same name: the service keeps the old host's id for this assignment, so "
                "it no longer blocks updates. Remove the configuration assignment and assign it again; if the "
                "issue persists, contact support."
            ),
            doc=RECREATED_HOST_DOC,
            fixable=False,
            key="recreated-host",
            data={"host": assignment.target, "earlier_run": earlier[target]},
        )


def detect(ctx: Context) -> Iterable[Finding]:
    yield from _stuck(ctx)
    yield from _orphaned_host_assignments(ctx)
    yield from _recreated_hosts(ctx)


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Stuck apply updates, and dedicated hosts their assignments no longer hold",
        doc=STUCK_DOC,
        severity="medium",
        detect=detect,
        needs=Needs(resource_types=frozenset({APPLY_UPDATE_TYPE, ASSIGNMENT_TYPE, CONFIGURATION_TYPE, HOST_TYPE})),
        read_permissions=(
            "Microsoft.Maintenance/applyUpdates/read",
            "Microsoft.Maintenance/configurationAssignments/read",
            "Microsoft.Maintenance/maintenanceConfigurations/read",
            "Microsoft.Compute/hostGroups/hosts/read",
        ),
        fix_default=False,
        phase=90,
        options_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"stuck_hours": {"type": "number", "exclusiveMinimum": 0}},
        },
    )
)
