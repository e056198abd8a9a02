"""Maintenance configurations that in-scope assignments point at, wherever they live.

A run scoped to subscription B sees B's machines and their configuration assignments, but a
configuration is often kept centrally in another subscription: without it a scheduled machine
looks unscheduled. Each referenced configuration outside the scope is read by id (there are
few, never one per machine); one the principal cannot see (403) or that is gone (404) is left out,
and the playbooks report the assignment as pointing nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ..estate import Resource
from .arm_errors import read_errors
from .clients import ArmClients
from .sdk_values import raw_body

CONFIGURATION_TYPE = "microsoft.maintenance/maintenanceconfigurations"
ASSIGNMENT_TYPE = "microsoft.maintenance/configurationassignments"
API_VERSION = "2023-04-01"


def referenced_configurations(clients: ArmClients, resources: list[Resource]) -> list[Resource]:
    known = {r.key for r in resources}
    wanted = sorted(
        {
            str(r.properties.get("maintenanceConfigurationId"))
            for r in resources
            if r.type_key == ASSIGNMENT_TYPE
            and isinstance(r.properties, Mapping)
            and r.properties.get("maintenanceConfigurationId")
            and str(r.properties.get("maintenanceConfigurationId")).lower() not in known
        }
    )
    if not wanted:
        return []

    def read(config_id: str) -> Resource | None:
        subscription = config_id.split("/")[2] if config_id.lower().startswith("/subscriptions/") else ""
        if not subscription:
            return None
        ops = clients.resources(subscription).resources
        with read_errors():
            try:
                return Resource.from_arm(ops.get_by_id(config_id, api_version=API_VERSION, cls=raw_body))
            except ResourceNotFoundError:
                return None
            except HttpResponseError as exc:
                if exc.status_code in (403, 404):
                    return None
                raise

    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        return [found for found in pool.map(read, wanted) if found is not None]
