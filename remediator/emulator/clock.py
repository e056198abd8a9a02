"""The emulator's simulated clock, and the timed events that run on it.

Azure's delays (policy re-evaluation about 15 minutes after a change, the 24-hour compliance
cycle, on-demand scans that run for minutes, Resource Graph's lag) are minutes to hours long;
tests must never sleep through them. The clock therefore starts at the estate's ``now`` (or the
wall clock when the estate sets none), moves on with elapsed real time like the real thing, and
jumps forward on :meth:`SimulatedClock.advance`. A test that wants no real-time drift at all
pauses it (``Knobs.clock_follows_real_time`` false, or :meth:`SimulatedClock.pause`).

Timed events (:class:`Timeline`) are callbacks due at a simulated instant. They run, in due order,
under the state lock, before each request is handled and whenever the clock is advanced, so what
a client sees is always what Azure would hold at that instant.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class SimulatedClock:
    """Simulated time: ``start`` + elapsed real time (while running) + every explicit advance."""

    def __init__(self, start: datetime | None = None, *, running: bool = True) -> None:
        self._lock = threading.Lock()
        self._base = start if start is not None else datetime.now(UTC)
        self._offset = timedelta(0)
        self._since = time.monotonic()
        self._running = running

    def now(self) -> datetime:
        with self._lock:
            return self._base + self._offset + self._elapsed()

    def advance(self, by: timedelta | float) -> datetime:
        """Jump ``by`` (a timedelta or seconds) into the future; return the new now."""
        step = by if isinstance(by, timedelta) else timedelta(seconds=float(by))
        if step < timedelta(0):
            raise ValueError("the simulated clock never goes back")
        with self._lock:
            self._offset += step
            return self._base + self._offset + self._elapsed()

    def pause(self) -> None:
        """Stop following real time (explicit advances still move it)."""
        with self._lock:
            self._offset += self._elapsed()
            self._running = False

    def resume(self) -> None:
        with self._lock:
            if not self._running:
                self._since = time.monotonic()
                self._running = True

    def _elapsed(self) -> timedelta:
        return timedelta(seconds=time.monotonic() - self._since) if self._running else timedelta(0)


Event = Callable[[], None]


class Timeline:
    """Callbacks due at simulated instants; :meth:`run_due` runs those whose time has come."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Event]] = []
        self._order = itertools.count()

    def at(self, due: datetime, event: Event) -> None:
        heapq.heappush(self._heap, (due, next(self._order), event))

    def run_due(self, now: datetime) -> int:
        """Run every event due at or before ``now`` (events it schedules too); return how many ran."""
        ran = 0
        while self._heap and self._heap[0][0] <= now:
            _, _, event = heapq.heappop(self._heap)
            event()
            ran += 1
        return ran

    def __len__(self) -> int:
        return len(self._heap)
