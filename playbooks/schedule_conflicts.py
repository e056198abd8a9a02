"""schedule-conflicts: a machine under two schedules whose windows overlap runs only one of them.

troubleshoot.md "Scheduled patching isn't working": for a concurrent or conflicting schedule only
one schedule is triggered, the other after the first finishes (and troubleshoot-maintenance-
configurations.md "Schedule didn't trigger": with the same trigger time only one runs). Report
each pair of non-expired InGuestPatch configurations on one machine whose windows overlap within
the horizon, with the first overlapping window. Which schedule should move is the owner's call.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations

from remediator import Context, Finding, Needs, Playbook, register
from remediator.schedule import Window, windows_between

from ._maintenance_model import (
    MAINTENANCE_RESOURCE_TYPES,
    Configuration,
    MaintenanceView,
    horizon,
    options_schema,
    view_of,
)

PLAYBOOK_ID = "schedule-conflicts"
DOC = "troubleshoot.md#scheduled-patching-isnt-working"


def first_overlap(a: Configuration, b: Configuration, view: MaintenanceView, span: Window) -> Window | None:
    if a.window is None or b.window is None:
        return None
    others = list(windows_between(b.window, span.start, span.end))
    for mine in windows_between(a.window, span.start, span.end):
        for theirs in others:
            shared = mine.overlap(theirs)
            if shared is not None:
                return shared
    return None


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx.estate)
    span = Window(view.now, view.now + horizon(ctx.options))
    cache: dict[tuple[str, str], Window | None] = {}
    for machine, attached in view.scheduled_machines():
        configs = sorted((a.configuration for a in attached), key=lambda c: c.resource.key)
        for a, b in combinations(configs, 2):
            pair = (a.resource.key, b.resource.key)
            if pair not in cache:
                cache[pair] = first_overlap(a, b, view, span)
            shared = cache[pair]
            if shared is None:
                continue
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=machine.id,
                severity="medium",
                title=f"{machine.name}: schedules {a.resource.name} and {b.resource.name} overlap",
                detail=(
                    f"{machine.name} is under {a.resource.name} and {b.resource.name}, whose windows overlap "
                    f"from {shared.start:%Y-%m-%d %H:%M} to {shared.end:%H:%M} UTC. Only one schedule triggers; "
                    "the other waits until the first finishes and may run out of window. Move the start time "
                    "of one configuration, or take the machine out of one of them."
                ),
                doc=DOC,
                fixable=False,
                key="|".join(pair),
                data={
                    "configurations": [a.id, b.id],
                    "first_overlap": shared.to_json(),
                },
            )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Overlapping maintenance schedules on one machine (only one triggers)",
        doc=DOC,
        severity="medium",
        detect=detect,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        fix_default=False,
        phase=60,
        options_schema=options_schema(),
    )
)
