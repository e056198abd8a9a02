"""Maintenance-window math: a configuration's ``maintenanceWindow`` -> concrete windows in UTC.

Pure functions only (no I/O, no clock): playbooks pass ``estate.now``. The shapes are those of
Microsoft.Maintenance 2023-04-01 (``MaintenanceWindow`` in its spec):

* ``startDateTime`` / ``expirationDateTime``: ``"yyyy-mm-dd hh:mm"`` (``:ss`` tolerated) in the
  configuration's time zone; the start's date anchors the recurrence and its time of day is
  the time every window opens, in local wall-clock time (so DST moves it in UTC).
* ``duration``: ``"hh:mm"`` (``hh:mm:ss`` tolerated).
* ``timeZone``: a Windows time-zone id (``"Pacific Standard Time"``), mapped to IANA with
  tzlocal's table of the Unicode CLDR mapping.
* ``recurEvery``: ``[n]Day(s)``; ``[n]Week(s) [Monday,...]``; ``[n]Month(s) [day1,day-1,...]``;
  ``[n]Month(s) First|Second|Third|Fourth|Last <Weekday> [Offset<-6..6>]``.

Choices where Azure's documentation is silent, made explicit here:

* Weekly periods count from the week (Monday to Sunday) that holds the start date.
* ``Month`` without days recurs on the start date's day, on the month's last day when the
  month is shorter; ``dayN`` beyond a month's length does not occur that month; ``day-1`` is
  the last day, ``day-2`` the one before.
* A local start time that does not exist (spring-forward gap) opens at the same wall-clock
  reading shifted by the gap (zoneinfo's ``fold=0``); an ambiguous one opens at the first.

>>> mw = parse_window({"startDateTime": "2026-01-01 22:00", "duration": "02:00",
...                    "timeZone": "Tokyo Standard Time", "recurEvery": "Month Last Sunday"})
>>> [str(w) for w in windows_between(mw, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))]
['2026-03-29T13:00Z..2026-03-29T15:00Z', '2026-04-26T13:00Z..2026-04-26T15:00Z']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

__all__ = [
    "MaintenanceWindow",
    "Recurrence",
    "ScheduleError",
    "Window",
    "format_duration",
    "next_window",
    "occurs_on",
    "parse_duration",
    "parse_recur_every",
    "parse_window",
    "windows_between",
    "windows_zone",
]

Unit = Literal["day", "week", "month"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
# Azure's "no expiration": 9999-12-31 23:59:59.
NEVER = datetime.max.replace(tzinfo=UTC)


class ScheduleError(ValueError):
    """A ``maintenanceWindow`` that cannot be understood; the message names the field."""


@dataclass(frozen=True)
class Window:
    """One concrete maintenance window, in UTC."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlap(self, other: Window) -> Window | None:
        """The part two windows share, or None (touching ends do not overlap).

        >>> a = Window(datetime(2026, 1, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 3, tzinfo=UTC))
        >>> b = Window(datetime(2026, 1, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, 5, tzinfo=UTC))
        >>> str(a.overlap(b)), a.overlap(Window(a.end, b.end))
        ('2026-01-01T02:00Z..2026-01-01T03:00Z', None)
        """
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Window(start, end) if start < end else None

    def __str__(self) -> str:
        return f"{_iso(self.start)}..{_iso(self.end)}"

    def to_json(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Recurrence:
    unit: Unit
    every: int = 1
    weekdays: tuple[int, ...] = ()  # 0 = Monday
    month_days: tuple[int, ...] = ()  # 1..31, or -1 = last day, -2 = day before, ...
    ordinal: int | None = None  # 1..4, or -1 = last
    ordinal_weekday: int | None = None
    offset_days: int = 0


@dataclass(frozen=True)
class MaintenanceWindow:
    start_local: datetime  # naive wall-clock time in ``zone``
    duration: timedelta
    zone: ZoneInfo
    time_zone: str  # the Windows name as configured
    recurrence: Recurrence | None  # None: a single window
    expiration_local: datetime | None = None

    @property
    def expires_at(self) -> datetime:
        if self.expiration_local is None:
            return NEVER
        return _to_utc(self.expiration_local, self.zone)

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


def windows_zone(name: str) -> ZoneInfo:
    """The IANA zone of a Windows time-zone id (IANA names and ``UTC`` are accepted as well).

    >>> windows_zone("W. Europe Standard Time").key, windows_zone("UTC").key
    ('Europe/Berlin', 'Etc/UTC')
    """
    cleaned = name.strip()
    iana = win_tz.get(cleaned)
    if iana is None:
        by_lower = {k.lower(): v for k, v in win_tz.items()}
        iana = by_lower.get(cleaned.lower())
    try:
        return ZoneInfo(iana or cleaned)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"timeZone {name!r} is not a known Windows time zone") from exc


_DURATION = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
_DATETIME = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?\s*$")


def parse_duration(text: str) -> timedelta:
    """``"hh:mm"`` (or ``"hh:mm:ss"``) as a timedelta.

    >>> parse_duration("03:55"), parse_duration("05:00:00")
    (datetime.timedelta(seconds=14100), datetime.timedelta(seconds=18000))
    """
    found = _DURATION.match(text or "")
    if not found:
        raise ScheduleError(f"duration {text!r} is not hh:mm")
    hours, minutes, seconds = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
    if minutes > 59 or seconds > 59:
        raise ScheduleError(f"duration {text!r} is not hh:mm")
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The ``"hh:mm"`` form ARM takes back.

    >>> format_duration(timedelta(hours=3, minutes=55))
    '03:55'
    """
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_local_datetime(text: str, field: str = "startDateTime") -> datetime:
    found = _DATETIME.match(text or "")
    if not found:
        raise ScheduleError(f"{field} {text!r} is not 'yyyy-mm-dd hh:mm'")
    year, month, day, hour, minute = (int(found.group(i)) for i in range(1, 6))
    try:
        return datetime(year, month, day, hour, minute, int(found.group(6) or 0))
    except ValueError as exc:
        raise ScheduleError(f"{field} {text!r} is not a valid date") from exc


_FREQUENCY = re.compile(r"^(\d*)\s*(day|days|week|weeks|month|months)$", re.IGNORECASE)
_MONTH_DAY = re.compile(r"^day(-?\d{1,2})$", re.IGNORECASE)
_OFFSET = re.compile(r"^offset([+-]?\d+)$", re.IGNORECASE)


def _weekday(token: str, text: str) -> int:
    lowered = token.strip().lower()
    for index, name in enumerate(WEEKDAYS):
        if lowered in (name, name[:3]):
            return index
    raise ScheduleError(f"recurEvery {text!r}: {token!r} is not a weekday")


def parse_recur_every(text: str) -> Recurrence:
    """Parse ``recurEvery`` in every form the 2023-04-01 spec documents.

    >>> parse_recur_every("3Days").unit, parse_recur_every("3Days").every
    ('day', 3)
    >>> parse_recur_every("Week Saturday,Sunday").weekdays
    (5, 6)
    >>> r = parse_recur_every("Month Last Sunday Offset-3")
    >>> r.ordinal, r.ordinal_weekday, r.offset_days
    (-1, 6, -3)
    >>> parse_recur_every("2Months day23,day-1").month_days
    (23, -1)
    """
    tokens = [t for t in re.split(r"[\s]+", (text or "").strip()) if t]
    if not tokens:
        raise ScheduleError("recurEvery is empty")
    head = _FREQUENCY.match(tokens[0])
    if not head:
        raise ScheduleError(f"recurEvery {text!r} does not start with [n]Day, [n]Week or [n]Month")
    every = int(head.group(1) or 1)
    if every < 1:
        raise ScheduleError(f"recurEvery {text!r}: the frequency must be at least 1")
    unit: Unit = (
        "day"
        if head.group(2).lower().startswith("day")
        else ("week" if head.group(2).lower().startswith("week") else "month")
    )
    rest = tokens[1:]
    if unit == "day":
        if rest:
            raise ScheduleError(f"recurEvery {text!r}: a daily schedule takes no further terms")
        return Recurrence("day", every)
    if unit == "week":
        days = [d for d in ",".join(rest).split(",") if d.strip()]
        return Recurrence("week", every, weekdays=tuple(sorted({_weekday(d, text) for d in days})))
    if not rest:
        return Recurrence("month", every)
    first = rest[0].lower()
    if first in ORDINALS:
        if len(rest) not in (2, 3):
            raise ScheduleError(f"recurEvery {text!r}: expected '<Week of month> <Weekday> [Offset<n>]'")
        offset = 0
        if len(rest) == 3:
            found = _OFFSET.match(rest[2])
            if not found or not -6 <= int(found.group(1)) <= 6:
                raise ScheduleError(f"recurEvery {text!r}: the offset must be Offset-6 .. Offset6")
            offset = int(found.group(1))
        weekday = _weekday(rest[1], text)
        ordinal = ORDINALS[first]
        return Recurrence("month", every, ordinal=ordinal, ordinal_weekday=weekday, offset_days=offset)
    month_days: list[int] = []
    for token in ",".join(rest).split(","):
        if not token.strip():
            continue
        found = _MONTH_DAY.match(token.strip())
        if not found or int(found.group(1)) == 0 or not -31 <= int(found.group(1)) <= 31:
            raise ScheduleError(f"recurEvery {text!r}: {token!r} is not day1..day31 or day-1..day-31")
        month_days.append(int(found.group(1)))
    return Recurrence("month", every, month_days=tuple(dict.fromkeys(month_days)))


def parse_window(window: Mapping[str, Any]) -> MaintenanceWindow:
    """A ``properties.maintenanceWindow`` object -> `MaintenanceWindow` (raises `ScheduleError`)."""
    zone_name = str(window.get("timeZone") or "UTC")
    expiration = window.get("expirationDateTime")
    recur = window.get("recurEvery")
    if not window.get("startDateTime"):
        raise ScheduleError("startDateTime is missing")
    if not window.get("duration"):
        raise ScheduleError("duration is missing")
    return MaintenanceWindow(
        start_local=parse_local_datetime(str(window["startDateTime"])),
        duration=parse_duration(str(window["duration"])),
        zone=windows_zone(zone_name),
        time_zone=zone_name,
        recurrence=parse_recur_every(str(recur)) if recur else None,
        expiration_local=parse_local_datetime(str(expiration), "expirationDateTime") if expiration else None,
    )


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    if local.year >= 9999:
        return NEVER
    return local.replace(tzinfo=zone).astimezone(UTC)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def _nth_weekday(year: int, month: int, ordinal: int, weekday: int) -> date:
    if ordinal > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (ordinal - 1))
    last = date(year, month, _days_in_month(year, month))
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _months_between(anchor: date, day: date) -> int:
    return (day.year - anchor.year) * 12 + day.month - anchor.month


def occurs_on(mw: MaintenanceWindow, day: date) -> bool:
    """Whether a window opens on local date ``day`` (ignoring expiration)."""
    anchor = mw.start_local.date()
    rule = mw.recurrence
    if rule is None:
        return day == anchor
    if day < anchor:
        return False
    if rule.unit == "day":
        return (day - anchor).days % rule.every == 0
    if rule.unit == "week":
        week0 = anchor - timedelta(days=anchor.weekday())
        if ((day - week0).days // 7) % rule.every:
            return False
        return day.weekday() in (rule.weekdays or (anchor.weekday(),))
    if rule.ordinal is not None and rule.ordinal_weekday is not None:
        # The offset can push the window into the neighbouring month: test the unshifted date.
        base = day - timedelta(days=rule.offset_days)
        if _months_between(anchor, base) % rule.every:
            return False
        return base == _nth_weekday(base.year, base.month, rule.ordinal, rule.ordinal_weekday)
    if _months_between(anchor, day) % rule.every:
        return False
    length = _days_in_month(day.year, day.month)
    if not rule.month_days:
        return day.day == min(anchor.day, length)
    return any((d if d > 0 else length + 1 + d) == day.day for d in rule.month_days if abs(d) <= length)


def windows_between(mw: MaintenanceWindow, start: datetime, end: datetime) -> Iterator[Window]:
    """Every window that overlaps ``[start, end)`` (aware datetimes), in order.

    Windows that open after ``expirationDateTime`` are not produced.
    """
    expires = mw.expires_at
    offset = mw.recurrence.offset_days if mw.recurrence else 0
    # Start early enough to catch a window that opened before `start` and is still open.
    first_day = (start - mw.duration).astimezone(mw.zone).date() - timedelta(days=2 + abs(offset))
    first_day = max(first_day, mw.start_local.date())
    last_day = end.astimezone(mw.zone).date() + timedelta(days=1)
    day = first_day
    while day <= last_day:
        if occurs_on(mw, day):
            opens = _to_utc(datetime.combine(day, mw.start_local.time()), mw.zone)
            if opens >= expires:
                return
            window = Window(opens, opens + mw.duration)
            if window.start < end and window.end > start:
                yield window
        day += timedelta(days=1)


def next_window(mw: MaintenanceWindow, now: datetime, horizon: timedelta) -> Window | None:
    """The first window that opens at or after ``now`` and within ``horizon``."""
    for window in windows_between(mw, now, now + horizon):
        if window.start >= now:
            return window
    return None
