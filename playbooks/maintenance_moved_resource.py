"""maintenance-moved-resource: a machine moved to another resource group or subscription left its schedule.

troubleshoot.md "Maintenance configuration isn't applied when you move a VM": assignments do not
follow a move. A static assignment whose ``resourceId`` no longer exists, while exactly one
machine of that name and type exists elsewhere without that configuration, is fixed by creating
the assignment on the moved machine first and deleting the stale one second (a crash between
the two loses nothing; a rerun sees the machine already assigned and only deletes). With no
candidate or several, the finding gives the article's manual steps.

Dynamic scopes: a machine that ran under a configuration recently (an ``applyupdates`` record)
and that none of the configuration's scopes selects any more is reported with the filter that
excludes it; what to change (the scope or the machine) is the owner's call.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from remediator import Change, Context, Finding, Needs, Playbook, Resource, parse_resource_id, register

from ._maintenance_model import (
    APPLY_UPDATE_TYPE,
    MACHINE_TYPES,
    MAINTENANCE_RESOURCE_TYPES,
    Assignment,
    MaintenanceView,
    assignment_id_for,
    assignment_target,
    exclusion,
    options_schema,
    time_of,
    view_of,
)

PLAYBOOK_ID = "maintenance-moved-resource"
DOC = "troubleshoot.md#maintenance-configuration-isnt-applied-when-you-move-a-vm"
MANUAL_STEPS = (
    "Static scope: remove the assignment, move the machine, re-create the assignment. Dynamic scope: "
    "initiate or wait for the next scheduled run, move the machine, re-create the assignment. If a step "
    "was missed, move the machine back to its previous resource group or subscription and retry the "
    "steps (re-create a deleted resource group with the same name; for a deleted subscription, "
    "contact support)."
)


# Why the fix does not follow the article's order (remove the assignment, move, re-create; if a
# step was missed, move the machine back and repeat): that order prevents the problem before a
# move. After the fact, moving back is a second move and an outage; the same end state is
# reached in place, and creating before deleting loses nothing if the run stops in between.
AFTER_THE_FACT = (
    "Why not the documented order (remove the assignment before the move; if missed, move the machine back and "
    "repeat): that prevents the problem before a move. After it, moving back means a second move and downtime, "
    "while creating the new assignment first and deleting the stale one second reaches the same end state in "
    "place and loses nothing if interrupted."
)


def _name_type(resource_id: str) -> tuple[str, str]:
    parts = parse_resource_id(resource_id)
    return parts.get("name", "").lower(), parts.get("type", "").lower()


def _could_be_the_moved(view: MaintenanceView, old_id: str, candidate: Resource) -> bool:
    """A move keeps the machine's identity — its ``vmId`` and its ``timeCreated`` — while a new
    machine given the old name gets new ones. No shape that outlives the move carries the old
    ``vmId`` (a configuration assignment holds ``maintenanceConfigurationId`` and ``resourceId``
    only, Maintenance 2023-04-01; applyUpdates and query-logs.md's patch results none), so the
    corroboration is ``timeCreated``: a candidate created after the machine at the old id last ran
    a schedule is another machine, not the moved one."""
    created = time_of(candidate.properties.get("timeCreated"))
    runs = view.runs_by_machine.get(old_id.lower(), [])
    last = max((t for r in runs if (t := time_of(r.properties.get("startDateTime"))) is not None), default=None)
    return created is None or last is None or created <= last


def _stale_static(ctx: Context, view: MaintenanceView) -> Iterable[Finding]:
    for assignment in view.assignments:
        if assignment.dynamic or ctx.estate.get(assignment.target) is not None:
            continue
        name, type_ = _name_type(assignment.target)
        if type_ not in MACHINE_TYPES:
            continue
        config = view.configuration(assignment.configuration_id)
        config_name = (
            config.resource.name
            if config
            else parse_resource_id(assignment.configuration_id).get("name", assignment.configuration_id)
        )
        named = [m for m in view.by_name.get((name, type_), []) if m.key != assignment.target.lower()]
        candidates = [m for m in named if _could_be_the_moved(view, assignment.target, m)]
        data = {
            "stale_assignment": assignment.id,
            "previous_resource_id": assignment.target,
            "maintenance_configuration_id": assignment.configuration_id,
            "candidates": [m.id for m in candidates],
        }
        if len(candidates) == 1:
            moved = candidates[0]
            already = any(
                a.configuration.resource.key == assignment.configuration_id.lower() for a in view.attachments(moved)
            )
            action = (
                f"{moved.name} is already under {config_name}; the fix deletes the stale assignment."
                if already
                else f"The fix assigns {config_name} to {moved.id} first, then deletes the stale assignment. "
                + AFTER_THE_FACT
            )
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=assignment.id,
                severity="high",
                title=f"{moved.name} moved and dropped out of schedule {config_name}",
                detail=(
                    f"The assignment {assignment.name} still points at {assignment.target}, which no longer "
                    f"exists; the machine now lives at {moved.id}, so {config_name} does not patch it. " + action
                ),
                doc=DOC,
                fixable=True,
                key=assignment.id.lower(),
                data={**data, "moved_resource_id": moved.id, "already_assigned": already, "location": moved.location},
            )
            continue
        found = (
            f"{len(candidates)} machines named {name} exist"
            if candidates
            else f"the machine named {name} elsewhere was created after this one last ran a schedule, so it is "
            "another machine, not the moved one"
            if named
            else f"no machine named {name} exists"
        )
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=assignment.id,
            severity="high",
            title=f"Assignment of {config_name} points at a machine that no longer exists",
            detail=(
                f"{assignment.target} no longer exists and {found} elsewhere, so the bot "
                f"cannot tell where it moved; re-create the assignment by hand. {MANUAL_STEPS}"
            ),
            doc=DOC,
            fixable=False,
            key=assignment.id.lower(),
            data=data,
        )


def _last_runs(ctx: Context, since: datetime) -> dict[tuple[str, str], Resource]:
    """(machine id, configuration id) -> its latest applyupdates record since ``since``."""
    latest: dict[tuple[str, str], Resource] = {}
    for record in ctx.estate.of_type(APPLY_UPDATE_TYPE):
        props = record.properties
        config_id = str(props.get("maintenanceConfigurationId") or "").lower()
        machine_id = str(props.get("resourceId") or "").lower()
        when = time_of(props.get("startDateTime") or props.get("lastUpdateTime"))
        if not config_id or not machine_id or when is None or when < since:
            continue
        key = (machine_id, config_id)
        if key not in latest or _started(latest[key]) < when:
            latest[key] = record
    return latest


def _started(record: Resource) -> datetime:
    when = time_of(record.properties.get("startDateTime") or record.properties.get("lastUpdateTime"))
    return when or datetime.min.replace(tzinfo=UTC)


def _dropped_dynamic(ctx: Context, view: MaintenanceView) -> Iterable[Finding]:
    days = float(ctx.option("history_days", 35))
    runs = _last_runs(ctx, ctx.estate.now - timedelta(days=days))
    for (machine_id, config_id), record in sorted(runs.items()):
        config = view.configuration(config_id)
        scopes = [d for d in view.dynamic if d.configuration_id.lower() == config_id]
        if config is None or not config.active(view.now) or not scopes:
            continue
        found = ctx.estate.get(machine_id)
        same_name = view.by_name.get(_name_type(machine_id), [])
        if found is None and len(same_name) != 1:
            continue
        machine = found or same_name[0]
        if any(a.configuration.resource.key == config_id for a in view.attachments(machine)):
            continue
        if any(a.configuration_id.lower() == config_id and not a.dynamic for a in _stale_for(view, machine_id)):
            continue  # a stale static assignment: reported (and fixed) by _stale_static
        reasons = {scope.id: exclusion(scope, machine) for scope in scopes}
        moved = machine.key != machine_id
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="medium",
            title=f"{machine.name} no longer matches any dynamic scope of {config.resource.name}",
            detail=(
                f"{machine.name} ran under {config.resource.name} on "
                f"{record.properties.get('startDateTime') or record.properties.get('lastUpdateTime')}"
                + (f" as {machine_id}, and has since moved to {machine.id}" if moved else "")
                + "; no dynamic scope selects it now: "
                + "; ".join(f"{assignment_target(s)}: {why}" for s, why in reasons.items())
                + ". Widen a scope's filter, or re-create an assignment for the machine. "
                + MANUAL_STEPS
            ),
            doc=DOC,
            fixable=False,
            key=f"dynamic:{config_id}",
            data={
                "maintenance_configuration_id": config.id,
                "excluded_by": reasons,
                "previous_resource_id": machine_id,
            },
        )


def _evidence(finding: Finding) -> str:
    """Where a finding was learnt: the stale assignment or the run record of the old machine id,
    which only the shard that holds the old subscription sees (remediator.shards)."""
    return str(finding.data.get("stale_assignment") or finding.data.get("previous_resource_id") or finding.resource_id)


def _stale_for(view: MaintenanceView, machine_id: str) -> list[Assignment]:
    return view.static_by_target.get(machine_id.lower(), [])


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx.estate)
    yield from _stale_static(ctx, view)
    yield from _dropped_dynamic(ctx, view)


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    data = finding.data
    stale_id = str(data.get("stale_assignment", ""))
    moved_id = str(data.get("moved_resource_id", ""))
    stale = ctx.estate.get(stale_id)
    if not moved_id or stale is None:
        return []
    config_id = str(data["maintenance_configuration_id"])
    changes: list[Change] = []
    if not data.get("already_assigned"):
        changes.append(
            Change(
                finding_id=finding.id,
                playbook=PLAYBOOK_ID,
                resource_id=assignment_id_for(moved_id, stale.name),
                action="create-configuration-assignment",
                before={"maintenanceConfigurationId": None},
                after={"maintenanceConfigurationId": config_id},
                params={"resourceId": moved_id, "location": str(data.get("location") or "")},
                order=10,
            )
        )
    changes.append(
        Change(
            finding_id=finding.id,
            playbook=PLAYBOOK_ID,
            resource_id=stale.id,
            action="delete-configuration-assignment",
            before={"maintenanceConfigurationId": config_id},
            after={"maintenanceConfigurationId": None},
            order=20,
            depends_on=tuple(c.id for c in changes),
        )
    )
    return changes


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Machines moved across resource groups or subscriptions must stay in their schedule",
        doc=DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        permissions=(
            "Microsoft.Maintenance/configurationAssignments/write",
            "Microsoft.Maintenance/configurationAssignments/delete",
        ),
        read_permissions=("Microsoft.Maintenance/maintenanceConfigurations/read",),
        options_schema=options_schema(history_days={"type": "number", "exclusiveMinimum": 0}),
        fix_default=True,
        phase=30,
        owner=_evidence,
    )
)
