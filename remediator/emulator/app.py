"""The emulator's route table: every route module, imported from ONE explicit list.

To add per-type behaviour, write a module with ``ROUTES: list[Route]`` (see ``routing.py``) and
add it to ``ROUTE_MODULES``. Order only breaks ties between equally specific routes.
"""

from __future__ import annotations

from types import ModuleType

from remediator.emulator import authorization, maintenance, policy
from remediator.emulator.routing import Route

ROUTE_MODULES: tuple[ModuleType, ...] = (
    policy,
    authorization,
    maintenance,
)


def all_routes() -> list[Route]:
    """Every declared route, in module order then declaration order."""
    routes: list[Route] = []
    for module in ROUTE_MODULES:
        routes.extend(module.ROUTES)
    return routes
