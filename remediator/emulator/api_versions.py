"""The api-versions the emulator accepts, per API (independent of what the SDK defaults to).

Each tuple lists versions Microsoft publishes for that API; a request with another version gets
ARM's 400 ``InvalidApiVersionParameter``.
"""

from __future__ import annotations

import re

RESOURCES = ("2025-04-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2022-09-01", "2021-04-01")
SUBSCRIPTIONS = ("2022-12-01", "2021-01-01", "2020-01-01", "2016-06-01")
RESOURCE_GRAPH = ("2021-03-01", "2022-10-01", "2024-04-01")
MAINTENANCE = ("2023-10-01-preview", "2023-09-01-preview", "2023-04-01", "2022-11-01-preview", "2021-05-01")
MANAGEMENT_GROUPS = ("2023-04-01", "2021-04-01", "2020-05-01", "2020-02-01")
COMPUTE = (
    "2025-04-01",
    "2024-11-01",
    "2024-07-01",
    "2024-03-01",
    "2023-09-01",
    "2023-07-01",
    "2023-03-01",
    "2022-11-01",
    "2022-08-01",
    "2022-03-01",
    "2021-11-01",
    "2021-07-01",
)
HYBRID_COMPUTE = (
    "2025-01-13",
    "2024-07-10",
    "2024-07-31-preview",
    "2023-10-03-preview",
    "2022-12-27",
    "2022-11-10",
    "2022-03-10",
)

# Resource types (lowercase) -> versions; types not listed accept any well-formed version.
BY_TYPE: dict[str, tuple[str, ...]] = {
    "microsoft.resources/resourcegroups": RESOURCES,
    "microsoft.resources/subscriptions": SUBSCRIPTIONS,
    "microsoft.compute/virtualmachines": COMPUTE,
    "microsoft.compute/virtualmachines/extensions": COMPUTE,
    "microsoft.compute/disks": COMPUTE,
    "microsoft.compute/galleries": COMPUTE,
    "microsoft.compute/galleries/images": COMPUTE,
    "microsoft.compute/galleries/images/versions": COMPUTE,
    "microsoft.compute/images": COMPUTE,
    "microsoft.compute/virtualmachinescalesets": COMPUTE,
    "microsoft.hybridcompute/machines": HYBRID_COMPUTE,
    "microsoft.hybridcompute/machines/extensions": HYBRID_COMPUTE,
    "microsoft.management/managementgroups": MANAGEMENT_GROUPS,
}

WELL_FORMED = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$")
