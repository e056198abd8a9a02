"""Maintenance configurations, configuration assignments (resource, parent, dynamic scopes), apply-updates.

Owned by the maintenance engineer.

Declare routes with ``remediator.emulator.routing.route`` into ``ROUTES`` (see routing.py).
"""

from __future__ import annotations

from remediator.emulator.routing import Route

ROUTES: list[Route] = []
