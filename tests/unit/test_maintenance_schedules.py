"""schedule-conflicts, powered-off-machines and maintenance-window: pure detect/plan."""

from __future__ import annotations

from typing import Any

from playbooks.maintenance_window import PLAYBOOK as WINDOW
from playbooks.powered_off_machines import PLAYBOOK as POWERED_OFF
from playbooks.schedule_conflicts import PLAYBOOK as CONFLICTS
from playbooks.schedule_prerequisites import PLAYBOOK as PREREQUISITES
from remediator import Context, Finding
from tests.data.maintenance.estates import (
    SUB_A,
    arc,
    assignment,
    configuration,
    estate,
    group,
    installation_result,
    to_estate,
    vm,
)

# now: Thursday 2026-11-26 09:00 UTC (Berlin is UTC+1 in November).
DAILY = configuration(SUB_A, "rg-maint", "daily-22z", start="2026-01-01 22:00")
BERLIN = configuration(SUB_A, "rg-maint", "berlin-23", start="2026-01-01 23:00", time_zone="W. Europe Standard Time")
WEEKEND = configuration(SUB_A, "rg-maint", "weekend", start="2026-01-03 22:00", recur="Week Saturday,Sunday")
MONTH_END = configuration(
    SUB_A, "rg-maint", "month-end", start="2026-01-31 22:30", duration="01:30", recur="Month day-1"
)
EXPIRED = configuration(SUB_A, "rg-maint", "expired", start="2026-01-01 22:00", expiration="2026-10-01 00:00")


def _id(resource: dict[str, Any]) -> str:
    return str(resource["id"])


def run(playbook: Any, doc: dict[str, Any], options: dict[str, Any] | None = None) -> tuple[Context, list[Finding]]:
    ctx = Context(estate=to_estate(doc), options=options or {})
    return ctx, list(playbook.detect(ctx))


def conflict_estate() -> dict[str, Any]:
    both = vm(SUB_A, "rg-app", "both", tags={"ring": "1"})
    weekend = vm(SUB_A, "rg-app", "weekend-too")
    month = vm(SUB_A, "rg-app", "month-too")
    lonely = vm(SUB_A, "rg-app", "lonely")
    stale = vm(SUB_A, "rg-app", "expired-too")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        DAILY,
        BERLIN,
        WEEKEND,
        MONTH_END,
        EXPIRED,
        both,
        weekend,
        month,
        lonely,
        stale,
        assignment(_id(both), DAILY),
        assignment(
            f"/subscriptions/{SUB_A}/resourceGroups/rg-app",
            BERLIN,
            name="ring1",
            filter_={"tagSettings": {"tags": {"ring": ["1"]}, "filterOperator": "Any"}, "locations": []},
        ),
        assignment(_id(weekend), DAILY),
        assignment(_id(weekend), WEEKEND),
        assignment(_id(month), DAILY),
        assignment(_id(month), MONTH_END),
        assignment(_id(lonely), DAILY),
        assignment(_id(stale), DAILY),
        assignment(_id(stale), EXPIRED),
    )


def test_conflicts_are_found_over_the_whole_cycle_across_time_zones_and_scopes() -> None:
    _, findings = run(CONFLICTS, conflict_estate())
    by_name = {f.resource_id.split("/")[-1]: f for f in findings}
    # "lonely" has one schedule; "expired-too"'s second schedule can no longer open a window.
    assert set(by_name) == {"both", "weekend-too", "month-too"}
    both = by_name["both"]
    assert both.data["first_overlap"] == {"start": "2026-11-26T22:00Z", "end": "2026-11-27T00:00Z"}
    assert "berlin-23" in both.detail and "daily-22z" in both.detail
    assert not both.fixable
    assert by_name["weekend-too"].data["first_overlap"]["start"] == "2026-11-28T22:00Z"
    # Last day of November, 22:30 for 1h30 against 22:00 for 2h.
    assert by_name["month-too"].data["first_overlap"] == {"start": "2026-11-30T22:30Z", "end": "2026-12-01T00:00Z"}
    # Over a year: twice a week, and every month-end.
    assert 100 <= by_name["weekend-too"].data["overlaps_in_cycle"] <= 106
    assert 12 <= by_name["month-too"].data["overlaps_in_cycle"] <= 13


def _two_schedules(*configs: dict[str, Any]) -> dict[str, Any]:
    machine = vm(SUB_A, "rg-app", "pair")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        *configs,
        machine,
        *(assignment(_id(machine), c) for c in configs),
    )


def test_two_weekly_saturday_schedules_are_found_on_a_thursday() -> None:
    # now is Thursday 2026-11-26: the first shared window is two days ahead, past a 24 h horizon.
    a = configuration(SUB_A, "rg-maint", "sat-a", start="2026-01-03 20:00", recur="Week Saturday")
    b = configuration(SUB_A, "rg-maint", "sat-b", start="2026-01-03 21:00", recur="Week Saturday")
    (finding,) = run(CONFLICTS, _two_schedules(a, b))[1]
    assert finding.data["first_overlap"] == {"start": "2026-11-28T21:00Z", "end": "2026-11-28T22:00Z"}
    assert finding.doc == "troubleshoot.md#scheduled-patching-isnt-working"
    assert finding.data["same_trigger_time"] is False


def test_two_schedules_on_different_days_never_conflict() -> None:
    a = configuration(SUB_A, "rg-maint", "sat", start="2026-01-03 20:00", recur="Week Saturday")
    b = configuration(SUB_A, "rg-maint", "sun", start="2026-01-04 20:00", recur="Week Sunday")
    fortnight = configuration(SUB_A, "rg-maint", "2weeks", start="2026-01-05 20:00", recur="2Weeks Monday")
    other = configuration(SUB_A, "rg-maint", "other", start="2026-01-12 20:00", recur="2Weeks Monday")
    assert run(CONFLICTS, _two_schedules(a, b))[1] == []
    # Both on Mondays, on alternate weeks: the recurrences never meet in their cycle.
    assert run(CONFLICTS, _two_schedules(fortnight, other))[1] == []


def test_a_conflict_only_in_summer_is_found_in_november() -> None:
    # 22:00 UTC daily against 23:30 Berlin time: 22:30-23:30 UTC in winter (no overlap with a
    # 30-minute window ending 22:30), 21:30 UTC in summer (overlap).
    utc = configuration(SUB_A, "rg-maint", "utc", start="2026-01-01 22:00", duration="00:30")
    berlin = configuration(
        SUB_A, "rg-maint", "berlin", start="2026-01-01 23:30", duration="01:00", time_zone="W. Europe Standard Time"
    )
    (finding,) = run(CONFLICTS, _two_schedules(utc, berlin))[1]
    assert finding.data["first_overlap"]["start"].startswith("2027-03-28")


def test_the_same_trigger_time_points_at_schedule_didnt_trigger() -> None:
    a = configuration(SUB_A, "rg-maint", "a", start="2026-01-01 22:00")
    b = configuration(SUB_A, "rg-maint", "b", start="2026-01-01 22:00", duration="03:00")
    (finding,) = run(CONFLICTS, _two_schedules(a, b))[1]
    assert finding.data["same_trigger_time"] is True
    assert finding.doc == "troubleshoot-maintenance-configurations.md#schedule-didnt-trigger"


def powered_estate(now: str = "2026-11-26T09:00:00Z") -> dict[str, Any]:
    off = vm(SUB_A, "rg-app", "off", power="deallocated")
    stopped_weekend = vm(SUB_A, "rg-app", "weekend-off", power="stopped")
    running = vm(SUB_A, "rg-app", "on")
    unscheduled = vm(SUB_A, "rg-app", "unscheduled-off", power="deallocated")
    expired = vm(SUB_A, "rg-app", "expired-off", power="deallocated")
    arc_off = arc(SUB_A, "rg-app", "arc-off", status="Disconnected")
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        DAILY,
        WEEKEND,
        EXPIRED,
        off,
        stopped_weekend,
        running,
        unscheduled,
        expired,
        arc_off,
        assignment(_id(off), DAILY),
        assignment(_id(stopped_weekend), WEEKEND),
        assignment(_id(running), DAILY),
        assignment(_id(expired), EXPIRED),
        assignment(_id(arc_off), DAILY),
        now=now,
    )


def test_powered_off_machines_with_a_window_ahead() -> None:
    ctx, findings = run(POWERED_OFF, powered_estate())
    by_name = {f.resource_id.split("/")[-1]: f for f in findings}
    assert set(by_name) == {"off", "arc-off"}
    assert by_name["off"].fixable and not by_name["arc-off"].fixable
    assert by_name["off"].data["start_by"] == "2026-11-26T21:45:00+00:00"
    # By default a VM is started only on the (hourly) run within 1.5 hours of its window.
    assert list(POWERED_OFF.plan(ctx, by_name["off"])) == []
    ctx, findings = run(POWERED_OFF, powered_estate(now="2026-11-26T20:40:00Z"))
    by_name = {f.resource_id.split("/")[-1]: f for f in findings}
    (change,) = POWERED_OFF.plan(ctx, by_name["off"])
    assert change.action == "start-machine"
    assert change.before == {"powerState": "deallocated"} and change.after == {"powerState": "running"}
    assert list(POWERED_OFF.plan(ctx, by_name["arc-off"])) == []


def test_late_start_is_urgent_and_start_within_limits_the_fix() -> None:
    _, findings = run(POWERED_OFF, powered_estate(now="2026-11-26T21:50:00Z"))
    off = next(f for f in findings if f.resource_id.endswith("/off"))
    assert off.severity == "high" and "start it now" in off.detail
    ctx, findings = run(POWERED_OFF, powered_estate(now="2026-11-26T20:40:00Z"), {"start_within_hours": 1})
    off = next(f for f in findings if f.resource_id.endswith("/off"))
    assert list(POWERED_OFF.plan(ctx, off)) == []
    ctx, findings = run(POWERED_OFF, powered_estate(), {"start_within_hours": 24})
    off = next(f for f in findings if f.resource_id.endswith("/off"))
    assert [c.action for c in POWERED_OFF.plan(ctx, off)] == ["start-machine"]
    _, findings = run(POWERED_OFF, powered_estate(), {"horizon_hours": 72})
    assert {f.resource_id.split("/")[-1] for f in findings} == {"off", "arc-off", "weekend-off"}


def window_estate() -> dict[str, Any]:
    short = configuration(SUB_A, "rg-maint", "short", duration="01:00")
    roomy = configuration(SUB_A, "rg-maint", "roomy", duration="02:00")
    full = configuration(SUB_A, "rg-maint", "full", duration="03:55")
    healthy = configuration(SUB_A, "rg-maint", "healthy", duration="02:00")
    m_roomy, m_full, m_demand, m_ok, m_old = (vm(SUB_A, "rg-app", n) for n in ("m1", "m2", "m3", "m4", "m5"))
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        short,
        roomy,
        full,
        healthy,
        m_roomy,
        m_full,
        m_demand,
        m_ok,
        m_old,
        assignment(_id(m_roomy), roomy),
        assignment(_id(m_full), full),
        assignment(_id(m_ok), healthy),
        assignment(_id(m_old), healthy),
        installation_result(_id(m_roomy), exceeded=True, start="2026-11-25T22:00:00Z"),
        installation_result(_id(m_full), exceeded=True, start="2026-11-25T22:00:00Z"),
        installation_result(_id(m_demand), exceeded=True, start="2026-11-25T10:00:00Z", started_by="User"),
        # An exceeded run, then a clean one: history.
        installation_result(_id(m_ok), exceeded=True, start="2026-11-20T22:00:00Z", name="a"),
        installation_result(_id(m_ok), exceeded=False, start="2026-11-25T22:00:00Z", name="b", status="Succeeded"),
        installation_result(_id(m_old), exceeded=True, start="2026-09-01T22:00:00Z"),
    )


def test_short_windows_and_exceeded_runs() -> None:
    ctx, findings = run(WINDOW, window_estate())
    by_name = {f.resource_id.split("/")[-1]: f for f in findings}
    assert set(by_name) == {"short", "roomy", "full", "m3"}
    assert by_name["short"].data["target"] == "01:30"
    assert by_name["roomy"].data["target"] == "03:55" and by_name["roomy"].data["machines"] == ["m1"]
    assert not by_name["full"].fixable and not by_name["m3"].fixable
    assert "25 minutes" in by_name["roomy"].detail
    (change,) = WINDOW.plan(ctx, by_name["short"])
    assert change.action == "set-maintenance-window-duration"
    assert change.before == {"duration": "01:00"} and change.after == {"duration": "01:30"}
    assert list(WINDOW.plan(ctx, by_name["full"])) == []


def test_after_lengthening_nothing_is_planned_again() -> None:
    doc = window_estate()
    for res in doc["resources"]:
        if res["name"] in ("short", "roomy") and res["type"].endswith("maintenanceConfigurations"):
            res["properties"]["maintenanceWindow"]["duration"] = "01:30" if res["name"] == "short" else "03:55"
    ctx, findings = run(WINDOW, doc)
    assert [c for f in findings for c in WINDOW.plan(ctx, f)] == []
    assert {f.resource_id.split("/")[-1] for f in findings} == {"roomy", "full", "m3"}


def test_schedules_that_collide_only_once_daylight_saving_starts() -> None:
    pacific = configuration(
        SUB_A, "rg-maint", "pacific-8am", start="2026-01-01 08:00", time_zone="Pacific Standard Time", duration="01:30"
    )
    utc_3pm = configuration(SUB_A, "rg-maint", "utc-3pm", start="2026-01-01 15:00", duration="01:00")
    machine = vm(SUB_A, "rg-app", "dst")
    doc = estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        pacific,
        utc_3pm,
        machine,
        assignment(_id(machine), pacific),
        assignment(_id(machine), utc_3pm),
        now="2026-03-06T09:00:00Z",
    )
    # Until 8 March 16:00-17:30Z against 15:00-16:00Z only touch; a conflict is a property of the
    # two recurrences, so it is found two days ahead without any horizon option.
    _, findings = run(CONFLICTS, doc)
    (finding,) = findings
    assert finding.data["first_overlap"] == {"start": "2026-03-08T15:00Z", "end": "2026-03-08T16:00Z"}


def test_one_configuration_through_two_scopes_is_one_schedule() -> None:
    machine = vm(SUB_A, "rg-app", "twice", patch_mode="AutomaticByOS", bypass=None, tags={"ring": "1"})
    doc = estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        DAILY,
        machine,
        assignment(_id(machine), DAILY),
        assignment(
            f"/subscriptions/{SUB_A}",
            DAILY,
            name="ring1",
            filter_={"tagSettings": {"tags": {"ring": ["1"]}, "filterOperator": "All"}},
        ),
        assignment(f"/subscriptions/{SUB_A}/resourceGroups/rg-app", DAILY, name="rg-wide", filter_={}),
    )
    assert run(CONFLICTS, doc)[1] == []
    (finding,) = run(PREREQUISITES, doc)[1]
    assert finding.data["schedules"] == ["daily-22z"]


def test_a_window_the_bot_cannot_read_is_reported_once() -> None:
    odd = configuration(SUB_A, "rg-maint", "odd", time_zone="Mars Standard Time")
    machine = vm(SUB_A, "rg-app", "m", power="deallocated")
    doc = estate(group(SUB_A, "rg-maint"), group(SUB_A, "rg-app"), odd, machine, assignment(_id(machine), odd))
    (finding,) = run(WINDOW, doc)[1]
    assert finding.key == "unreadable" and "Mars Standard Time" in finding.detail and not finding.fixable
    assert run(POWERED_OFF, doc)[1] == [] and run(CONFLICTS, doc)[1] == []
