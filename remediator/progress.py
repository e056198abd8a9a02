"""Progress of long phases (inventory pages, applied changes), for whoever wants to show it.

The engine and the Azure layer call `report`; the CLI installs a sink (`remediator.report.progress`)
that draws a bar on a terminal or writes periodic lines otherwise. With no sink it costs nothing,
and this module never prints: only `remediator.report` and the CLI do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

# (phase, done, total or None when unknown, unit)
Sink = Callable[[str, int, int | None, str], None]

_lock = threading.Lock()
_sink: Sink | None = None


def set_sink(sink: Sink | None) -> None:
    global _sink
    with _lock:
        _sink = sink


def report(phase: str, done: int, total: int | None = None, unit: str = "") -> None:
    sink = _sink
    if sink is not None:
        sink(phase, done, total, unit)
