"""remediator.schedule: maintenanceWindow -> concrete UTC windows."""

from __future__ import annotations

import doctest
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import remediator.schedule as schedule
from remediator.schedule import (
    ScheduleError,
    Window,
    next_window,
    parse_duration,
    parse_recur_every,
    parse_window,
    windows_between,
    windows_zone,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def starts(window: dict[str, str], since: datetime, until: datetime) -> list[datetime]:
    return [w.start for w in windows_between(parse_window(window), since, until)]


def test_docstring_examples() -> None:
    result = doctest.testmod(schedule)
    assert result.attempted > 5
    assert result.failed == 0


def test_daily_window_follows_local_wall_clock_across_dst() -> None:
    # 2026-03-08: US DST starts; 08:00 Pacific is 16:00Z before and 15:00Z after.
    mw = {
        "startDateTime": "2026-03-01 08:00",
        "duration": "02:00",
        "timeZone": "Pacific Standard Time",
        "recurEvery": "Day",
    }
    found = starts(mw, utc(2026, 3, 7), utc(2026, 3, 9, 23))
    assert found == [utc(2026, 3, 7, 16), utc(2026, 3, 8, 15), utc(2026, 3, 9, 15)]


def test_start_time_in_spring_forward_gap_still_opens_once_that_day() -> None:
    # 02:30 does not exist in Berlin on 2026-03-29; the window still opens exactly once that day.
    mw = {
        "startDateTime": "2026-03-27 02:30",
        "duration": "01:00",
        "timeZone": "W. Europe Standard Time",
        "recurEvery": "Day",
    }
    found = starts(mw, utc(2026, 3, 28), utc(2026, 3, 31))
    assert found == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]


def test_every_three_days_counts_from_the_start_date() -> None:
    mw = {"startDateTime": "2026-01-01 00:00", "duration": "01:30", "timeZone": "UTC", "recurEvery": "3Days"}
    assert starts(mw, utc(2026, 1, 1), utc(2026, 1, 11)) == [utc(2026, 1, d) for d in (1, 4, 7, 10)]


def test_weekly_on_listed_days() -> None:
    mw = {
        "startDateTime": "2026-11-01 23:00",
        "duration": "03:00",
        "timeZone": "UTC",
        "recurEvery": "Week Saturday,Sunday",
    }
    found = starts(mw, utc(2026, 11, 2, 3), utc(2026, 11, 16))
    assert [d.date() for d in found] == [date(2026, 11, 7), date(2026, 11, 8), date(2026, 11, 14), date(2026, 11, 15)]


def test_every_two_weeks_without_days_keeps_the_start_weekday() -> None:
    mw = {"startDateTime": "2026-11-04 10:00", "duration": "02:00", "timeZone": "UTC", "recurEvery": "2Weeks"}
    found = starts(mw, utc(2026, 11, 1), utc(2026, 12, 10))
    assert [d.date() for d in found] == [date(2026, 11, 4), date(2026, 11, 18), date(2026, 12, 2)]


def test_monthly_on_day_31_falls_back_to_the_last_day_of_short_months() -> None:
    mw = {"startDateTime": "2026-01-31 20:00", "duration": "02:00", "timeZone": "UTC", "recurEvery": "Month"}
    found = starts(mw, utc(2026, 1, 1), utc(2026, 5, 1))
    assert [d.date() for d in found] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]


def test_month_days_and_last_day() -> None:
    mw = {
        "startDateTime": "2026-01-01 01:00",
        "duration": "02:00",
        "timeZone": "UTC",
        "recurEvery": "Month day30,day-1",
    }
    found = starts(mw, utc(2026, 2, 1), utc(2026, 4, 1))
    # February has no 30th; its last day is the 28th. March: the 30th and the 31st.
    assert [d.date() for d in found] == [date(2026, 2, 28), date(2026, 3, 30), date(2026, 3, 31)]


def test_leap_year_last_day() -> None:
    mw = {"startDateTime": "2028-01-01 01:00", "duration": "02:00", "timeZone": "UTC", "recurEvery": "Month day-1"}
    assert [d.date() for d in starts(mw, utc(2028, 2, 1), utc(2028, 3, 1))] == [date(2028, 2, 29)]


def test_nth_weekday_and_offset_crossing_into_the_next_month() -> None:
    fourth_monday = {
        "startDateTime": "2026-01-01 09:00",
        "duration": "02:00",
        "timeZone": "UTC",
        "recurEvery": "Month Fourth Monday",
    }
    assert [d.date() for d in starts(fourth_monday, utc(2026, 11, 1), utc(2026, 12, 1))] == [date(2026, 11, 23)]
    # Last Sunday of November 2026 is the 29th; +6 days is 5 December.
    shifted = dict(fourth_monday, recurEvery="Month Last Sunday Offset6")
    assert [d.date() for d in starts(shifted, utc(2026, 11, 25), utc(2026, 12, 10))] == [date(2026, 12, 5)]
    # "Patch Tuesday + 3": second Tuesday of December 2026 is the 8th.
    patch_tuesday = dict(fourth_monday, recurEvery="Month Second Tuesday Offset3")
    assert [d.date() for d in starts(patch_tuesday, utc(2026, 12, 1), utc(2026, 12, 31))] == [date(2026, 12, 11)]


def test_every_two_months_skips_the_months_between() -> None:
    mw = {"startDateTime": "2026-01-15 09:00", "duration": "02:00", "timeZone": "UTC", "recurEvery": "2Months"}
    found = starts(mw, utc(2026, 1, 1), utc(2026, 7, 1))
    assert [d.month for d in found] == [1, 3, 5]


def test_no_window_before_the_start_date_or_after_expiration() -> None:
    mw = {
        "startDateTime": "2026-11-27 09:00",
        "expirationDateTime": "2026-11-29 08:00",
        "duration": "02:00",
        "timeZone": "UTC",
        "recurEvery": "Day",
    }
    assert starts(mw, utc(2026, 11, 20), utc(2026, 12, 5)) == [utc(2026, 11, 27, 9), utc(2026, 11, 28, 9)]
    parsed = parse_window(mw)
    assert not parsed.expired(utc(2026, 11, 29, 7))
    assert parsed.expired(utc(2026, 11, 29, 8))


def test_far_future_expiration_never_expires() -> None:
    mw = parse_window(
        {
            "startDateTime": "2020-04-30 08:00",
            "expirationDateTime": "9999-12-31 00:00",
            "duration": "05:00",
            "timeZone": "Pacific Standard Time",
            "recurEvery": "Day",
        }
    )
    assert not mw.expired(utc(2026, 11, 26))
    assert next_window(mw, utc(2026, 11, 26, 9), timedelta(hours=24)) == Window(
        utc(2026, 11, 26, 16), utc(2026, 11, 26, 21)
    )


def test_window_already_open_is_listed_but_is_not_the_next_one() -> None:
    mw = parse_window(
        {"startDateTime": "2026-01-01 08:00", "duration": "03:00", "timeZone": "UTC", "recurEvery": "Day"}
    )
    now = utc(2026, 11, 26, 9)
    assert [w.start for w in windows_between(mw, now, now + timedelta(hours=1))] == [utc(2026, 11, 26, 8)]
    nxt = next_window(mw, now, timedelta(hours=24))
    assert nxt is not None and nxt.start == utc(2026, 11, 27, 8)
    assert next_window(mw, now, timedelta(hours=12)) is None


def test_seconds_tolerated_as_in_the_public_configurations_example() -> None:
    mw = parse_window(
        {
            "startDateTime": "2020-04-30 08:00:00",
            "duration": "05:00:00",
            "timeZone": "Pacific Standard Time",
            "recurEvery": "Week Saturday,Sunday",
        }
    )
    assert mw.duration == timedelta(hours=5)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recurEvery", "Fortnight"),
        ("recurEvery", "Month Fifth Monday"),
        ("recurEvery", "Month Last Sunday Offset-7"),
        ("recurEvery", "Month day32"),
        ("recurEvery", "Week Funday"),
        ("recurEvery", "Day Monday"),
        ("duration", "3h"),
        ("startDateTime", "2026-02-30 10:00"),
        ("timeZone", "Mars Standard Time"),
    ],
)
def test_malformed_fields_are_rejected_with_the_field_named(field: str, value: str) -> None:
    mw = {"startDateTime": "2026-01-01 08:00", "duration": "02:00", "timeZone": "UTC", "recurEvery": "Day"}
    mw[field] = value
    with pytest.raises(ScheduleError, match=field):
        parse_window(mw)


def test_windows_time_zone_names_map_to_iana() -> None:
    assert windows_zone("Korea Standard Time").key == "Asia/Seoul"
    assert windows_zone("cen. australia standard time").key == "Australia/Adelaide"
    assert parse_duration("00:45") == timedelta(minutes=45)


@settings(max_examples=60, deadline=None)
@given(
    unit=st.sampled_from(
        [
            "Day",
            "2Days",
            "Week",
            "Week Monday,Thursday",
            "Month",
            "Month day-1",
            "Month Last Friday",
            "Month First Sunday Offset-2",
            "3Months day1,day15",
        ]
    ),
    zone=st.sampled_from(["UTC", "Pacific Standard Time", "AUS Eastern Standard Time", "India Standard Time"]),
    hour=st.integers(0, 23),
    offset_days=st.integers(0, 400),
)
def test_windows_are_ordered_non_overlapping_and_inside_the_range(
    unit: str, zone: str, hour: int, offset_days: int
) -> None:
    mw = parse_window(
        {"startDateTime": f"2026-01-01 {hour:02d}:00", "duration": "03:55", "timeZone": zone, "recurEvery": unit}
    )
    since = utc(2026, 1, 1) + timedelta(days=offset_days)
    until = since + timedelta(days=100)
    found = list(windows_between(mw, since, until))
    assert found, "every recurrence here opens at least once in 100 days"
    for window in found:
        assert window.start < until and window.end > since
        assert window.duration == timedelta(hours=3, minutes=55)
    for earlier, later in itertools.pairwise(found):
        assert earlier.end <= later.start
    assert parse_recur_every(unit).unit in ("day", "week", "month")


RECURRENCES = st.sampled_from(
    [
        "Day",
        "3Days",
        "Week",
        "2Weeks Tuesday,Friday",
        "Month",
        "Month day-1,day15",
        "Month Fourth Monday",
        "2Months Last Sunday Offset-3",
        "Month First Saturday Offset6",
    ]
)
ZONES = st.sampled_from(
    [
        "UTC",
        "Pacific Standard Time",
        "W. Europe Standard Time",
        "Cen. Australia Standard Time",
        "Nepal Standard Time",
        "Morocco Standard Time",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    recur=RECURRENCES,
    zone=ZONES,
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
    start_day=st.integers(0, 500),
    split=st.integers(1, 119),
)
def test_splitting_the_range_changes_nothing(
    recur: str, zone: str, hour: int, minute: int, start_day: int, split: int
) -> None:
    mw = parse_window(
        {
            "startDateTime": f"2026-01-01 {hour:02d}:{minute:02d}",
            "duration": "01:30",
            "timeZone": zone,
            "recurEvery": recur,
        }
    )
    since = utc(2026, 1, 1) + timedelta(days=start_day)
    middle, until = since + timedelta(days=split), since + timedelta(days=120)
    whole = list(windows_between(mw, since, until))
    halves = list(dict.fromkeys([*windows_between(mw, since, middle), *windows_between(mw, middle, until)]))
    assert halves == whole


@settings(max_examples=60, deadline=None)
@given(recur=RECURRENCES, zone=ZONES, hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 45]))
def test_every_window_opens_at_the_configured_local_time_on_a_day_the_rule_names(
    recur: str, zone: str, hour: int, minute: int
) -> None:
    from remediator.schedule import occurs_on

    mw = parse_window(
        {
            "startDateTime": f"2026-01-01 {hour:02d}:{minute:02d}",
            "duration": "02:00",
            "timeZone": zone,
            "recurEvery": recur,
        }
    )
    for window in windows_between(mw, utc(2026, 1, 1), utc(2027, 1, 1)):
        local = window.start.astimezone(mw.zone)
        if (local.hour, local.minute) != (hour, minute):
            # Only a wall-clock time the spring-forward gap skipped may move, by the gap.
            assert local.replace(tzinfo=None) != datetime(local.year, local.month, local.day, hour, minute)
            assert (local.utcoffset() or timedelta()) > (local - timedelta(days=1)).utcoffset()  # type: ignore[operator]
            continue
        assert occurs_on(mw, local.date())
