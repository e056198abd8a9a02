"""The boundary between the engine and whatever holds the tenant (``remediator.azure``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from .estate import Estate
from .model import Change, Scope
from .playbook import Needs


class Backend(Protocol):
    def read_estate(self, scope: Scope, needs: Needs, now: datetime | None) -> Estate:
        """Read everything ``needs`` asks for within ``scope``, in bulk; ``now`` overrides the clock."""

    def read_state(self, change: Change) -> Mapping[str, Any]:
        """Re-read the live values of the fields ``change.before`` holds (same keys, same shapes)."""

    def execute(self, change: Change) -> str:
        """Make the change and wait (bounded) until ARM holds it; return a one-line detail.

        Raises `remediator.errors.ArmOperationError` with ARM's error code when ARM refuses.
        """

    def settle(self, applied: Sequence[Change]) -> str:
        """Called after each group of changes with those applied; may wait for ARM to catch up
        (role assignments authorize minutes after they are created). Returns a note or ""."""

    def close(self) -> None: ...
