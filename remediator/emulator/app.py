"""The emulator's route table: every route module, imported from ONE explicit list.

To add per-type behaviour, write a module with ``ROUTES: list[Route]`` (see ``routing.py``) and
add it to ``ROUTE_MODULES``. Order only breaks ties between equally specific routes; the generic
resource routes of ``arm_generic`` match anything and lose to every more specific route.
"""

from __future__ import annotations

from types import ModuleType

from remediator.emulator import (
    arm_generic,
    authorization,
    compute,
    maintenance,
    management_groups,
    operations,
    policy,
    policy_scans,
    providers,
    resource_lists,
    rp_operations,
    subscriptions,
)
from remediator.emulator.blob import routes as blob_storage
from remediator.emulator.graph import routes as resource_graph
from remediator.emulator.routing import Route

ROUTE_MODULES: tuple[ModuleType, ...] = (
    operations,
    subscriptions,
    providers,
    resource_lists,
    rp_operations,
    management_groups,
    resource_graph,
    policy,
    policy_scans,
    authorization,
    maintenance,
    compute,
    blob_storage,
    arm_generic,
)


def all_routes() -> list[Route]:
    """Every declared route, in module order then declaration order."""
    routes: list[Route] = []
    for module in ROUTE_MODULES:
        routes.extend(module.ROUTES)
    return routes
