"""The run's deadline and stop request, shared by the engine and every wait in the Azure layer.

A scheduled job has a deadline (``apply.timeout_seconds``) and a container runtime that sends
SIGTERM before it kills: every sleep of the run goes through `RunControl.sleep`, which wakes at
once when a stop is requested and refuses a wait that would end after the deadline, so the run
always gets to write its report.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from .errors import RemediatorError

# Exit codes of a run stopped by a signal (128 + the signal's number, as shells report it).
SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class Interrupted(RemediatorError):
    """A stop was requested (SIGINT/SIGTERM) while the run waited."""

    def __init__(self, message: str, exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class DeadlineExceeded(RemediatorError):
    """A wait would end after the run's deadline."""


class RunControl:
    """A monotonic deadline plus a stop flag; thread-safe (worker threads only read it)."""

    def __init__(self, timeout_seconds: float = math.inf) -> None:
        self._deadline = time.monotonic() + timeout_seconds
        self._stop = threading.Event()
        self.signal: int | None = None

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self, signum: int) -> None:
        self.signal = signum
        self._stop.set()

    def sleep(self, seconds: float, what: str = "wait") -> None:
        """Sleep ``seconds`` unless a stop comes first; refuse a wait longer than the time left."""
        if self._stop.is_set():
            raise Interrupted(f"{what}: interrupted", self.exit_code)
        if seconds > self.remaining():
            raise DeadlineExceeded(
                f"{what}: {seconds:g}s is more than the {self.remaining():.0f}s left before the run's deadline "
                "(apply.timeout_seconds)"
            )
        if seconds > 0 and self._stop.wait(seconds):
            raise Interrupted(f"{what}: interrupted", self.exit_code)

    @property
    def exit_code(self) -> int:
        return SIGNAL_EXIT_CODES.get(signal.Signals(self.signal), 128 + self.signal) if self.signal else 0

    @contextmanager
    def signals_handled(self) -> Iterator[None]:
        """While inside, SIGINT and SIGTERM request a stop instead of killing the process.

        Only the main thread may install handlers; elsewhere (a test runner's worker) this is a no-op.
        """
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            del frame
            self.request_stop(signum)

        previous = {sig: signal.signal(sig, handler) for sig in SIGNAL_EXIT_CODES}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)
