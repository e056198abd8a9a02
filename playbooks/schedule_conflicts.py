"""schedule-conflicts: a machine under two schedules whose windows overlap runs only one of them.

troubleshoot.md "Scheduled patching isn't working": for a concurrent or conflicting schedule only
one schedule is triggered, the other after the first finishes (and troubleshoot-maintenance-
configurations.md "Schedule didn't trigger": with the same trigger time only one runs). A
conflict is a property of the two recurrences, not of the next day: each pair of non-expired
InGuestPatch configurations on one machine is compared over a whole joint cycle from now — the
least common multiple of their periods (a day, a week, N of them), at least a year so that both
time zones' daylight-saving shifts and every month length are seen, at most `MAX_SPAN`. Two
weekly schedules that overlap every Saturday are found on a Thursday; two on different days are
not. Reported with the first overlap and how often they overlap in the cycle; which schedule
should move is the owner's call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import combinations
from math import lcm

from remediator import Context, Finding, Needs, Playbook, register
from remediator.schedule import MaintenanceWindow, Window, windows_between

from ._maintenance_model import (
    MAINTENANCE_RESOURCE_TYPES,
    Configuration,
    horizon,
    options_schema,
    view_of,
)

PLAYBOOK_ID = "schedule-conflicts"
DOC = "troubleshoot.md#scheduled-patching-isnt-working"
SAME_TRIGGER_DOC = "troubleshoot-maintenance-configurations.md#schedule-didnt-trigger"
YEAR = timedelta(days=366)
# A monthly rule against a weekly one repeats its weekday pattern only over years; five cover
# every "Nth weekday" / "day N" combination that an interval up to 60 months can produce.
MAX_SPAN = timedelta(days=5 * 366)


def _period_days(window: MaintenanceWindow) -> int | None:
    """The recurrence's period in days, or None for month-based and one-off windows."""
    rule = window.recurrence
    if rule is None or rule.unit == "month":
        return None
    return rule.every * (7 if rule.unit == "week" else 1)


def cycle(a: MaintenanceWindow, b: MaintenanceWindow) -> timedelta:
    """How far ahead to look so that every way the two recurrences can meet is seen once."""
    span = YEAR
    days = [_period_days(w) for w in (a, b)]
    if all(d is not None for d in days):
        span = max(span, timedelta(days=lcm(*(d for d in days if d is not None))))
    months = [w.recurrence.every for w in (a, b) if w.recurrence is not None and w.recurrence.unit == "month"]
    if months:
        span = max(span, timedelta(days=31 * lcm(12, *months)))
    return min(span, MAX_SPAN)


def overlaps(a: MaintenanceWindow, b: MaintenanceWindow, start: datetime, end: datetime) -> Iterator[Window]:
    """Every overlap of the two schedules' windows in ``[start, end)``, in order (a merge of the
    two ordered window streams: linear in the number of windows)."""
    mine, theirs = windows_between(a, start, end), windows_between(b, start, end)
    x, y = next(mine, None), next(theirs, None)
    while x is not None and y is not None:
        shared = x.overlap(y)
        if shared is not None:
            yield shared
        if x.end <= y.end:
            x = next(mine, None)
        else:
            y = next(theirs, None)


def conflict(a: Configuration, b: Configuration, now: datetime, at_least: timedelta) -> tuple[Window, int, bool] | None:
    """(first overlap, overlaps in the cycle, same trigger time) or None."""
    if a.window is None or b.window is None:
        return None
    end = now + max(cycle(a.window, b.window), at_least)
    first: Window | None = None
    count = 0
    for shared in overlaps(a.window, b.window, now, end):
        first = first or shared
        count += 1
    if first is None:
        return None
    starts_a = {w.start for w in windows_between(a.window, first.start - timedelta(days=1), first.end)}
    starts_b = {w.start for w in windows_between(b.window, first.start - timedelta(days=1), first.end)}
    same_start = bool(starts_a & starts_b)
    return first, count, same_start


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx.estate)
    at_least = horizon(ctx.options)
    cache: dict[tuple[str, str], tuple[Window, int, bool] | None] = {}
    for machine, attached in view.scheduled_machines():
        configs = sorted({a.configuration.resource.key: a.configuration for a in attached}.values(), key=_key)
        for a, b in combinations(configs, 2):
            pair = (a.resource.key, b.resource.key)
            if pair not in cache:
                cache[pair] = conflict(a, b, view.now, at_least)
            found = cache[pair]
            if found is None:
                continue
            shared, count, same_start = found
            same = " at the same trigger time" if same_start else ""
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=machine.id,
                severity="medium",
                title=f"{machine.name}: schedules {a.resource.name} and {b.resource.name} overlap",
                detail=(
                    f"{machine.name} is under {a.resource.name} and {b.resource.name}, whose windows overlap{same} "
                    f"{count} time(s) in their joint cycle, first from {shared.start:%Y-%m-%d %H:%M} to "
                    f"{shared.end:%Y-%m-%d %H:%M} UTC. Only one schedule triggers; the other waits until the first "
                    "finishes and may run out of window. Move the start time of one configuration, or take the "
                    "machine out of one of them."
                ),
                doc=SAME_TRIGGER_DOC if same_start else DOC,
                fixable=False,
                key="|".join(pair),
                data={
                    "configurations": [a.id, b.id],
                    "first_overlap": shared.to_json(),
                    "overlaps_in_cycle": count,
                    "same_trigger_time": same_start,
                },
            )


def _key(config: Configuration) -> str:
    return config.resource.key


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
        # horizon_hours: look at least this far ahead (the joint cycle is usually longer).
        options_schema=options_schema(),
    )
)
