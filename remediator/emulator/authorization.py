"""Role assignments and role definitions (Microsoft.Authorization).

Owned by the policy engineer.

Declare routes with ``remediator.emulator.routing.route`` into ``ROUTES`` (see routing.py).
"""

from __future__ import annotations

from remediator.emulator.routing import Route

ROUTES: list[Route] = []
