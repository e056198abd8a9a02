"""Peak resident memory of this process, from /proc (Linux), resettable between phases."""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path


def peak_rss_mb() -> float:
    """VmHWM: the most resident memory this process has held since start (or the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> None:
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+, see proc(5))."""
    # Not Linux or not allowed: the peak then covers the process's whole life.
    with suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
