"""powered-off-machines: a shut-down machine is not patched by its schedule.

troubleshoot.md "You can't apply patches for shut-down machines": machines must be on at least
15 minutes before the scheduled update. Report every machine, deallocated or stopped (Arc:
disconnected), whose next window opens within the horizon. The opt-in fix starts an Azure VM
only for a window opening within ``start_within_hours`` (default 1.5), so machines are not kept
running for a day ahead; an Arc machine cannot be started through ARM and is only reported.

Why 1.5 hours: the bot is meant to run hourly. Every window then has one run between 90 and 30
minutes before it opens — the article's 15 minutes of lead, plus 15 for the VM to boot, plus
the hour between runs — so each window gets its start exactly once and no machine is started
earlier than it must be. Runs less often than hourly need a larger value (run interval + 0.5).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from remediator import Change, Context, Finding, Needs, Playbook, register

from ._maintenance_model import (
    ARC_TYPE,
    MAINTENANCE_RESOURCE_TYPES,
    configuration_of,
    horizon,
    options_schema,
    power_state,
    view_of,
)

PLAYBOOK_ID = "powered-off-machines"
DOC = "troubleshoot.md#you-cant-apply-patches-for-shut-down-machines"
LEAD = timedelta(minutes=15)
START_WITHIN_HOURS = 1.5
VM_OFF = frozenset({"deallocated", "deallocating", "stopped", "stopping"})
ARC_OFF = frozenset({"disconnected", "expired"})


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx.estate)
    span = horizon(ctx.options)
    now = view.now
    for machine, attached in view.scheduled_machines():
        state = power_state(machine)
        is_arc = machine.type_key == ARC_TYPE
        if state not in (ARC_OFF if is_arc else VM_OFF):
            continue
        upcoming = [(w, a) for a in attached if (w := view.next_window(a.configuration, span)) is not None]
        if not upcoming:
            continue
        window, attachment = min(upcoming, key=lambda pair: pair[0].start)
        start_by = window.start - LEAD
        late = start_by < now
        if is_arc:
            advice = "Bring the Arc machine and its agent online (it cannot be started through Azure)."
        else:
            advice = (
                f"Start it by {start_by:%Y-%m-%d %H:%M} UTC"
                + (" (already less than 15 minutes before the window: start it now)" if late else "")
                + ". With the fix enabled, the bot starts the VM on its run within "
                + f"{float(ctx.option('start_within_hours', START_WITHIN_HOURS)):g} hours of the window."
            )
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="high" if late else "medium",
            title=f"{machine.name} is {state} and {attachment.configuration.resource.name} opens "
            f"{window.start:%Y-%m-%d %H:%M} UTC",
            detail=(
                f"{machine.name} is {state}; schedule {attachment.describe()} opens at "
                f"{window.start:%Y-%m-%d %H:%M} UTC and shut-down machines are not patched (they may even "
                "lose their schedule). Machines must be on at least 15 minutes before the window. " + advice
            ),
            doc=DOC,
            fixable=not is_arc,
            data={
                "power_state": state,
                "maintenance_configuration_id": attachment.configuration.id,
                "window": window.to_json(),
                "start_by": start_by.isoformat(),
            },
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    machine = ctx.estate.get(finding.resource_id)
    if machine is None or machine.type_key == ARC_TYPE:
        return ()
    within = float(ctx.option("start_within_hours", START_WITHIN_HOURS))
    window = configuration_of(ctx.estate, str(finding.data["maintenance_configuration_id"]))
    upcoming = window.next_window(ctx.estate.now, timedelta(hours=within)) if window else None
    if upcoming is None:
        return ()
    return (
        Change(
            finding_id=finding.id,
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            action="start-machine",
            before={"powerState": power_state(machine)},
            after={"powerState": "running"},
        ),
    )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Machines shut down when their maintenance window opens",
        doc=DOC,
        severity="medium",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        permissions=("Microsoft.Compute/virtualMachines/start/action",),
        fix_default=False,
        phase=70,
        options_schema=options_schema(start_within_hours={"type": "number", "exclusiveMinimum": 0}),
    )
)
