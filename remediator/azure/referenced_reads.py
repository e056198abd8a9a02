"""What in-scope maintenance assignments point at, wherever it lives in the tenant.

Configurations:

A run scoped to subscription B sees B's machines and their configuration assignments, but a
configuration is often kept centrally in another subscription: without it a scheduled machine
looks unscheduled. Each referenced configuration outside the scope is read by id (there are
few, never one per machine); one the principal cannot see (403) or that is gone (404) is left out,
and the playbooks report the assignment as pointing nowhere.

Role assignments on what machines are made from: a VM's gallery image, managed disks and disk
encryption sets often live in another subscription (a central image gallery), as may the
maintenance configuration a scheduling policy assignment names in its parameters, outside the run's
Resource Graph scope; a role held there (or above it) is read per distinct resource with
``atScope()``, which lists the assignments at the resource and every scope above it. Few ids (an
image serves many machines); one that is gone or unreadable (403/404) is left out.

Machines: a static assignment whose machine is gone may belong to a machine that moved to another
subscription, outside this run's scope; whether exactly one machine of that name exists anywhere
decides if the move can be repaired, so machines with those names are looked up tenant-wide, in
one Resource Graph query per 200 names.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from ..estate import Resource
from .arm_errors import read_errors
from .clients import ArmClients
from .resource_graph import PROJECTION, GraphReader, GraphScope
from .sdk_values import raw_body

CONFIGURATION_TYPE = "microsoft.maintenance/maintenanceconfigurations"
ASSIGNMENT_TYPE = "microsoft.maintenance/configurationassignments"
API_VERSION = "2023-04-01"
MACHINE_TYPES = ("microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines")
NAMES_PER_QUERY = 200


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


def machines_named_by_stale_assignments(graph: GraphReader, resources: list[Resource]) -> list[Resource]:
    known = {r.key for r in resources}
    names: set[str] = set()
    for r in resources:
        if r.type_key != ASSIGNMENT_TYPE or not isinstance(r.properties, Mapping):
            continue
        target = str(r.properties.get("resourceId") or "")
        parts = target.lower().rstrip("/").split("/")
        if target and target.lower() not in known and "/".join(parts[-3:-1]) in MACHINE_TYPES:
            names.add(parts[-1])
    found: list[Resource] = []
    ordered = sorted(names)
    for start in range(0, len(ordered), NAMES_PER_QUERY):
        query = machines_by_name_query(ordered[start : start + NAMES_PER_QUERY])
        found += [Resource.from_arm(row) for row in graph.rows(GraphScope(tenant=True), query)]
    return found


def machines_by_name_query(names: list[str]) -> str:
    types = ", ".join(f"'{t}'" for t in MACHINE_TYPES)
    quoted = ", ".join("'" + n.replace("'", "") + "'" for n in names)
    return f"resources | where type in~ ({types}) | where name in~ ({quoted}) | project {PROJECTION}"


VIRTUAL_MACHINE_TYPE = "microsoft.compute/virtualmachines"
POLICY_ASSIGNMENT_TYPE = "microsoft.authorization/policyassignments"


def _storage_references(machine: Resource) -> set[str]:
    """Ids a VM's storage profile names: its image (a gallery image's definition), disks, encryption sets."""
    storage = machine.properties.get("storageProfile") if isinstance(machine.properties, Mapping) else None
    if not isinstance(storage, Mapping):
        return set()
    found: set[str] = set()
    image = storage.get("imageReference")
    image_id = str(image.get("id") or "") if isinstance(image, Mapping) else ""
    # Grants for an image version are made on its definition, which covers every version.
    found.add(image_id[: image_id.lower().find("/versions/")] if "/versions/" in image_id.lower() else image_id)
    for disk in [storage.get("osDisk"), *(storage.get("dataDisks") or ())]:
        managed = disk.get("managedDisk") if isinstance(disk, Mapping) else None
        if isinstance(managed, Mapping):
            found.add(str(managed.get("id") or ""))
            encryption = managed.get("diskEncryptionSet")
            found.add(str(encryption.get("id") or "") if isinstance(encryption, Mapping) else "")
    return {f for f in found if f.lower().startswith("/subscriptions/")}


def _parameter_references(assignment: Resource) -> set[str]:
    """Resource ids a policy assignment passes in its parameters (a scheduling policy's configuration)."""
    parameters = assignment.properties.get("parameters") if isinstance(assignment.properties, Mapping) else None
    if not isinstance(parameters, Mapping):
        return set()
    values = [p.get("value") for p in parameters.values() if isinstance(p, Mapping)]
    return {v for v in values if isinstance(v, str) and v.lower().startswith("/subscriptions/") and v.count("/") >= 8}


def role_assignments_on_referenced(
    clients: ArmClients, resources: list[Resource], subscriptions: set[str]
) -> list[Resource]:
    """Role assignments at or above what in-scope VMs are made from, and what policy assignments
    name in their parameters, when it lives outside ``subscriptions``."""
    referenced: set[str] = set()
    for r in resources:
        if r.type_key == VIRTUAL_MACHINE_TYPE:
            referenced |= _storage_references(r)
        elif r.type_key == POLICY_ASSIGNMENT_TYPE:
            referenced |= _parameter_references(r)
    wanted = sorted({ref for ref in referenced if ref.split("/")[2].lower() not in subscriptions}, key=str.lower)

    def read(scope: str) -> list[Resource]:
        ops = clients.authorization(scope.split("/")[2]).role_assignments
        with read_errors():
            try:
                return [
                    Resource.from_arm(item.serialize(keep_readonly=True))
                    for item in ops.list_for_scope(scope.lstrip("/"), filter="atScope()")
                ]
            except HttpResponseError as exc:
                if exc.status_code in (400, 403, 404):
                    return []
                raise

    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        return [found for batch in pool.map(read, wanted) for found in batch]
