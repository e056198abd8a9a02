"""recreated-machine: new machines and machines deleted and re-created under the same resource id.

troubleshoot.md "Scheduled patching isn't working": a newly created Azure VM may see 15 minutes
of trigger delay; "You get a ShutdownOrUnresponsive error": schedules on machines deleted and
re-created with the same resource id within 8 hours fail (12 hours for a dynamic scope, per
troubleshoot-maintenance-configurations.md, whose static-scope advice is to re-assign the
configuration after re-creating).

Evidence of a re-creation: an ``applyupdates`` record for this resource id that started before
the VM's ``timeCreated``. Reported: a window opening within 15 minutes of creation, and a window
opening inside the buffer after a re-creation. Fixed: a static assignment the re-creation dropped
(the previous instance ran under a configuration that no longer reaches the machine) is
re-attached, once the 8-hour buffer has passed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from remediator import Change, Context, Finding, Needs, Playbook, register

from ._maintenance_model import (
    MAINTENANCE_RESOURCE_TYPES,
    VM_TYPE,
    assignment_id_for,
    horizon,
    options_schema,
    time_of,
    view_of,
)

PLAYBOOK_ID = "recreated-machine"
DOC = "troubleshoot.md#you-get-a-shutdownorunresponsive-error"
NEW_MACHINE_DELAY = timedelta(minutes=15)
STATIC_BUFFER = timedelta(hours=8)
DYNAMIC_BUFFER = timedelta(hours=12)
# The two documents' numbers, and why the re-attach waits 8 hours, in every dropped finding.
BUFFER_SOURCES = (
    "Which buffer: troubleshoot.md (ShutdownOrUnresponsive) says runs on a machine re-created with the same "
    "resource id within 8 hours fail; troubleshoot-maintenance-configurations.md says a dynamic-scope assignment "
    "takes 12 hours to clean up and, for static scopes, to re-assign the configuration after re-creating. A "
    "static assignment is re-created here after troubleshoot.md's 8 hours; dynamic scopes re-select the machine "
    "themselves, and their windows inside 12 hours are reported instead."
)


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx.estate)
    now, span = view.now, horizon(ctx.options)
    for machine in ctx.estate.of_type(VM_TYPE):
        created = time_of(machine.properties.get("timeCreated"))
        if created is None:
            continue
        attached = view.active_attachments(machine, intended=False)
        earlier = {
            config_id: time_of(record.properties.get("startDateTime") or record.properties.get("lastUpdateTime"))
            or created
            for config_id, record in view.earlier_runs(machine, created).items()
        }
        upcoming = sorted(
            ((w, a) for a in attached if (w := view.next_window(a.configuration, span)) is not None),
            key=lambda pair: pair[0].start,
        )
        if earlier and upcoming:
            window, attachment = upcoming[0]
            buffer = DYNAMIC_BUFFER if attachment.assignment.dynamic else STATIC_BUFFER
            if window.start < created + buffer:
                yield Finding(
                    playbook=PLAYBOOK_ID,
                    resource_id=machine.id,
                    severity="high",
                    title=f"{machine.name} was re-created {created:%Y-%m-%d %H:%M} UTC; its next run will fail",
                    detail=(
                        f"{machine.name} was deleted and re-created under the same resource id at "
                        f"{created:%Y-%m-%d %H:%M} UTC and {attachment.describe()} opens at "
                        f"{window.start:%Y-%m-%d %H:%M} UTC, within {buffer.total_seconds() / 3600:g} hours: "
                        "that run fails with ShutdownOrUnresponsive. It works again after the buffer; patch on "
                        "demand meanwhile, and keep the buffer before re-creating machines under a schedule."
                    ),
                    doc=DOC,
                    fixable=False,
                    key="shutdown-or-unresponsive",
                    data={"time_created": created.isoformat(), "window": window.to_json()},
                )
        elif upcoming and created <= now and upcoming[0][0].start - created < NEW_MACHINE_DELAY:
            window, attachment = upcoming[0]
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=machine.id,
                severity="low",
                title=f"{machine.name} is new; {attachment.configuration.resource.name} may trigger late",
                detail=(
                    f"{machine.name} was created at {created:%H:%M} UTC, less than 15 minutes before "
                    f"{attachment.describe()} opens at {window.start:%Y-%m-%d %H:%M} UTC: a newly created VM's "
                    "schedule can have up to 15 minutes of trigger delay, which the window must absorb."
                ),
                doc="troubleshoot.md#scheduled-patching-isnt-working",
                fixable=False,
                key="new-machine",
                data={"time_created": created.isoformat(), "window": window.to_json()},
            )
        attached_ids = {a.configuration.resource.key for a in view.attachments(machine)}
        for config_id, last_run in sorted(earlier.items()):
            config = view.configuration(config_id)
            if config is None or not config.active(now) or config_id in attached_ids:
                continue
            ready = created + STATIC_BUFFER
            wait = now < ready
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=machine.id,
                severity="high",
                title=f"{machine.name} lost schedule {config.resource.name} when it was re-created",
                detail=(
                    f"The previous {machine.name} ran under {config.resource.name} (last {last_run:%Y-%m-%d %H:%M} "
                    f"UTC); the machine re-created at {created:%Y-%m-%d %H:%M} UTC has no assignment to it. "
                    + (
                        f"Re-attach it after {ready:%Y-%m-%d %H:%M} UTC (8-hour buffer); the bot does so on a run "
                        "after that time."
                        if wait
                        else "The fix re-attaches the configuration to the machine."
                    )
                    + " "
                    + BUFFER_SOURCES
                ),
                doc=DOC,
                fixable=True,
                key=f"dropped:{config_id}",
                data={
                    "maintenance_configuration_id": config.id,
                    "ready_at": ready.isoformat(),
                    "location": machine.location,
                    "name": config.resource.name,
                },
            )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    if not finding.key.startswith("dropped:"):
        return ()
    ready = time_of(str(finding.data.get("ready_at")))
    if ready is None or ctx.estate.now < ready:
        return ()
    return (
        Change(
            finding_id=finding.id,
            playbook=PLAYBOOK_ID,
            resource_id=assignment_id_for(finding.resource_id, str(finding.data["name"])),
            action="create-configuration-assignment",
            before={"maintenanceConfigurationId": None},
            after={"maintenanceConfigurationId": str(finding.data["maintenance_configuration_id"])},
            params={"resourceId": finding.resource_id, "location": str(finding.data.get("location") or "")},
        ),
    )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="New and re-created machines: trigger delay, ShutdownOrUnresponsive, dropped assignments",
        doc=DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        permissions=("Microsoft.Maintenance/configurationAssignments/write",),
        fix_default=True,
        phase=30,
        options_schema=options_schema(),
    )
)
