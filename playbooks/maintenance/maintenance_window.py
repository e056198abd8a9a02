"""maintenance-window: windows too short for the reserve the service keeps, and runs that hit it.

troubleshoot.md "Update history inaccurately shows that you exceeded the maintenance window":
before each step the service checks that 15 minutes + 10 minutes for a reboot (25; 30 for
Windows service packs) remain, and otherwise skips the step and reports
``maintenanceWindowExceeded``. Reported, per configuration:

* InGuestPatch windows shorter than the minimum (``minimum_duration``, default 01:30);
* configurations whose machines' recent installation runs (``history_days``) say
  ``maintenanceWindowExceeded``.

The opt-in fix lengthens the duration within the 03:55 maximum: a short window to the minimum, a
window that was exceeded to ``exceeded_duration`` (default 03:55). Targets are absolute, not
"current + n", so a rerun after the fix plans nothing even while the old run is still the latest.
Runs started by a user (on-demand) are reported per machine: their remedy is a longer maximum
duration on the next on-demand deployment.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from types import MappingProxyType

from remediator import Change, Context, Finding, Needs, Playbook, Resource, register
from remediator.schedule import ScheduleError, Window, format_duration, parse_duration, windows_between

from .._shared import time_of as _time
from ._maintenance_model import (
    INSTALLATION_RESULT_TYPES,
    MAINTENANCE_RESOURCE_TYPES,
    Attachment,
    configuration_of,
    options_schema,
    view_of,
)

PLAYBOOK_ID = "maintenance-window"
DOC = "troubleshoot.md#update-history-inaccurately-shows-that-you-exceeded-the-maintenance-window"
MAXIMUM = timedelta(hours=3, minutes=55)
RESERVE = (
    "Before scanning, downloading or installing, the service needs 15 minutes plus 10 minutes reserved for "
    "a reboot (25 minutes; 30 for Windows service packs) left in the window, and skips the step otherwise."
)


def _when(result: Resource) -> datetime | None:
    return _time(result.properties.get("lastModifiedDateTime") or result.properties.get("startDateTime"))


def _machine_of(result: Resource) -> str:
    lowered = result.id.lower()
    cut = lowered.rfind("/patchinstallationresults/")
    return result.id[:cut] if cut >= 0 else ""


def _exceeded_runs(ctx: Context) -> dict[str, list[Resource]]:
    """Machine id (lowercase) -> its installation results since ``history_days`` that exceeded the window."""
    since = ctx.estate.now - timedelta(days=float(ctx.option("history_days", 14)))
    latest: dict[str, Resource] = {}
    for result in ctx.estate.of_type(*INSTALLATION_RESULT_TYPES):
        when = _when(result)
        machine = _machine_of(result).lower()
        if when is None or when < since or not machine:
            continue
        previous = latest.get(machine)
        if previous is None or (_when(previous) or when) < when:
            latest[machine] = result
    # Only the latest run counts: an exceeded window followed by a clean run is history.
    return {m: [r] for m, r in latest.items() if r.properties.get("maintenanceWindowExceeded") is True}


def _running_when(attached: list[Attachment], result: Resource) -> list[Attachment]:
    """The schedules whose window was open when the run started (all of them if none matches)."""
    started = _time(result.properties.get("startDateTime"))
    if started is None:
        return attached
    probe = Window(started - timedelta(minutes=1), started + timedelta(minutes=1))
    hits = [
        a
        for a in attached
        if a.configuration.window is not None
        and any(w.start <= started < w.end for w in windows_between(a.configuration.window, probe.start, probe.end))
    ]
    return hits or attached


def _target(minimum: timedelta, exceeded: timedelta | None) -> timedelta:
    return min(MAXIMUM, max(minimum, exceeded or minimum))


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx)
    minimum = parse_duration(str(ctx.option("minimum_duration", "01:30")))
    exceeded_duration = parse_duration(str(ctx.option("exceeded_duration", "03:55")))
    exceeded = _exceeded_runs(ctx)
    machines_by_config: dict[str, list[str]] = {}
    for machine_key, results in sorted(exceeded.items()):
        machine = ctx.estate.get(machine_key)
        if machine is None:
            continue
        attached = view.active_attachments(machine)
        if str(results[0].properties.get("startedBy", "")).lower() == "user" or not attached:
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=machine.id,
                severity="medium",
                title=f"{machine.name}: on-demand update run exceeded its maintenance window",
                detail=f"{RESERVE} Set a longer maximum duration when triggering the on-demand deployment.",
                doc=DOC,
                fixable=False,
                key="on-demand",
                data={"installation": results[0].id},
            )
            continue
        for attachment in _running_when(attached, results[0]):
            machines_by_config.setdefault(attachment.configuration.resource.key, []).append(machine.name)
    for key, config in sorted(view.configurations.items()):
        if config.in_guest_patch and config.error:
            # The maintenance playbooks cannot place its windows; say so rather than judge it silently.
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=config.id,
                severity="low",
                title=f"{config.resource.name}: maintenance window cannot be read",
                detail=f"{config.resource.name}: {config.error}. The maintenance playbooks skip this schedule.",
                doc=DOC,
                fixable=False,
                key="unreadable",
            )
            continue
        if not config.active(view.now) or config.window is None:
            continue
        duration = config.window.duration
        short = duration < minimum
        names = sorted(machines_by_config.get(key, []))
        if not short and not names:
            continue
        target = _target(minimum, exceeded_duration if names else None)
        reasons = []
        if short:
            reasons.append(f"its window is {format_duration(duration)}, shorter than {format_duration(minimum)}")
        if names:
            reasons.append(f"the last run on {', '.join(names)} reported maintenanceWindowExceeded")
        fixable = target > duration
        fix = (
            f"The fix (opt-in) sets the duration to {format_duration(target)}."
            if fixable
            else f"It is already {format_duration(duration)}, not shorter than the fix's target: split the "
            "machines across more schedules or install fewer updates per run."
        )
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=config.id,
            severity="medium",
            title=f"{config.resource.name}: maintenance window too short ({format_duration(duration)})",
            detail=f"{config.resource.name}: " + "; ".join(reasons) + f". {RESERVE} {fix}",
            doc=DOC,
            fixable=fixable,
            key="duration",
            data={"duration": format_duration(duration), "target": format_duration(target), "machines": names},
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    config = configuration_of(ctx.estate, finding.resource_id)
    if config is None or config.window is None:
        return ()
    try:
        target = parse_duration(str(finding.data["target"]))
    except (KeyError, ScheduleError):
        return ()
    if target <= config.window.duration:
        return ()
    raw = str(config.resource.properties.get("maintenanceWindow", {}).get("duration", ""))
    return (
        Change(
            finding_id=finding.id,
            playbook=PLAYBOOK_ID,
            resource_id=config.id,
            action="set-maintenance-window-duration",
            before={"duration": raw},
            after={"duration": format_duration(target)},
        ),
    )


DURATION_OPTION = MappingProxyType({"type": "string", "pattern": "^\\d{1,2}:\\d{2}$"})
PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Maintenance windows too short for the 25/30-minute reserve",
        doc=DOC,
        severity="medium",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        permissions=("Microsoft.Maintenance/maintenanceConfigurations/write",),
        fix_default=False,
        phase=60,
        options_schema=options_schema(
            minimum_duration=DURATION_OPTION,
            exceeded_duration=DURATION_OPTION,
            history_days={"type": "number", "exclusiveMinimum": 0},
        ),
    )
)
