"""Progress on stderr: a rich bar on a terminal, a plain line every few seconds otherwise.

The plain lines go through logging (``remediator.progress``), so a container job with
``--log-format json`` gets them as JSON with the run id like every other line.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from .. import progress

log = logging.getLogger("remediator.progress")
PLAIN_EVERY_SECONDS = 10.0
MODES = ("auto", "bar", "plain", "off")


class PlainLines:
    """A line per phase every ``every`` seconds while it runs, and one when a phase that printed ends.

    Short phases stay silent: a progress line is for a run a person would otherwise wonder about.
    """

    def __init__(self, every: float = PLAIN_EVERY_SECONDS) -> None:
        self.every = every
        self._last: dict[str, float] = {}
        self._spoke: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, phase: str, done: int, total: int | None, unit: str) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        with self._lock:
            last = self._last.setdefault(phase, now)
            speak = now - last >= self.every or (finished and phase in self._spoke)
            if speak:
                self._last[phase] = now
                self._spoke.add(phase)
            if finished:  # the phase's next event (the next query, the next apply) starts afresh
                self._last.pop(phase, None)
                self._spoke.discard(phase)
        if speak:
            of = f"/{total}" if total is not None else ""
            log.info("%s: %d%s %s", phase, done, of, unit, extra={"phase": phase, "done": done, "total": total})


class Bars:
    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def __call__(self, phase: str, done: int, total: int | None, unit: str) -> None:
        with self._lock:
            task = self.tasks.get(phase)
            if task is None:
                task = self.tasks[phase] = self.progress.add_task(phase, total=total, unit=unit)
            self.progress.update(task, completed=done, total=total)


@contextmanager
def showing_progress(mode: str = "auto", log_format: str = "text") -> Iterator[None]:
    """Install a progress sink for the duration of a command."""
    if mode == "off":
        yield
        return
    console = Console(file=sys.stderr)
    bar = mode == "bar" or (mode == "auto" and log_format == "text" and console.is_terminal)
    if not bar:
        progress.set_sink(PlainLines())
        try:
            yield
        finally:
            progress.set_sink(None)
        return
    bars = Bars(console)
    with bars.progress:
        progress.set_sink(bars)
        try:
            yield
        finally:
            progress.set_sink(None)
