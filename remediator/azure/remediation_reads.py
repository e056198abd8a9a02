"""Remediation tasks and their failed deployments, read through Policy Insights.

Resource Graph has no table for remediations, so they are listed per scope where tasks live:
each subscription in scope, each resource group and management group that holds an Update
Manager-relevant policy assignment (tasks go at the assignment's scope or below). The listing
gives each task's summary (``provisioningState``, ``deploymentStatus``) but not its deployments;
the deployment's error (an ``AuthorizationFailed`` naming the scope the identity could not reach)
is what policy-identity-roles reads, so failed tasks are expanded with one ``listDeployments``
each: a handful per assignment, never one per machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.core.exceptions import ARMErrorFormat

from ..estate import Resource
from .arm_errors import read_errors
from .clients import ArmClients
from .policy_actions import RemediationTarget

REMEDIATION_TYPE = "microsoft.policyinsights/remediations"
POLICY_ASSIGNMENT_TYPE = "microsoft.authorization/policyassignments"
# listDeployments answers the same at every version the bot uses; this one the specs hold (the
# SDK's own default, 2019-07-01, is not in them).
LIST_API_VERSION = "2021-10-01"
# Tasks are listed at the first version that serves filters.resourceIds (which machines a task
# covers: policy-remediation must not take a machine outside it for one awaiting evaluation), as
# raw JSON: the SDK's 2019-07-01 model would drop resourceIds, resourceCount and the like.
TASKS_API_VERSION = "2024-10-01"
TASKS_PATH = "/providers/Microsoft.PolicyInsights/remediations"


def _failed(remediation: Resource) -> bool:
    props = remediation.properties
    if "deployments" in props:
        return False  # an export that already carries them
    status = props.get("deploymentStatus")
    failed_count = status.get("failedDeployments") if isinstance(status, Mapping) else None
    return str(props.get("provisioningState") or "").lower() == "failed" or bool(failed_count)


def with_failed_deployments(clients: ArmClients, resources: list[Resource]) -> list[Resource]:
    """``resources`` with each failed remediation's ``properties.deployments`` filled in."""
    failed = [r for r in resources if r.type_key == REMEDIATION_TYPE and _failed(r)]
    if not failed:
        return resources

    def read(remediation: Resource) -> tuple[str, list[dict[str, Any]]]:
        target = RemediationTarget(remediation.id)
        with read_errors():
            deployments = target.deployments(clients, LIST_API_VERSION)
        return remediation.key, [d.serialize(keep_readonly=True) for d in deployments]

    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        found = dict(pool.map(read, failed))
    out: list[Resource] = []
    for resource in resources:
        if resource.key in found:
            raw = {**resource.raw, "properties": {**resource.properties, "deployments": found[resource.key]}}
            resource = Resource.from_arm(raw)
        out.append(resource)
    return out


def _assignment_scopes(resources: list[Resource]) -> set[str]:
    scopes: set[str] = set()
    for resource in resources:
        if resource.type_key != POLICY_ASSIGNMENT_TYPE:
            continue
        scope = str(resource.properties.get("scope") or resource.id.split("/providers/Microsoft.Authorization")[0])
        scopes.add(scope.rstrip("/"))
    return scopes


def _raw_list(clients: ArmClients, subscription: str, path: str) -> list[dict[str, Any]]:
    """Every page of an ARM list, as the JSON ARM sent, through the client's pipeline (auth, retry)."""
    client = clients.policy_insights(subscription)
    items: list[dict[str, Any]] = []
    request: HttpRequest | None = HttpRequest("GET", path, params={"api-version": TASKS_API_VERSION})
    while request is not None:
        response = client._send_request(request)
        if response.status_code != 200:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        page = response.json()
        items.extend(item for item in page.get("value") or () if isinstance(item, dict))
        link = page.get("nextLink")
        request = HttpRequest("GET", link) if isinstance(link, str) and link else None
    return items


def read_remediations(clients: ArmClients, subscriptions: list[str], resources: list[Resource]) -> list[Resource]:
    """Every remediation at the subscriptions in scope and at the scopes of the known assignments."""
    scopes = {f"/subscriptions/{s}" for s in subscriptions} | _assignment_scopes(resources)
    any_subscription = subscriptions[0] if subscriptions else ""

    def listed(scope: str) -> list[Resource]:
        lowered = scope.lower()
        parts = [p for p in scope.split("/") if p]
        subscription = parts[1] if lowered.startswith("/subscriptions/") else any_subscription
        if not subscription:
            return []
        group_scope = lowered.startswith("/providers/microsoft.management/managementgroups/")
        if not (group_scope or len(parts) in (2, 4)) or (len(parts) == 4 and "/resourcegroups/" not in lowered):
            return []  # a resource-scoped assignment: its tasks sit under the resource, rare
        with read_errors():
            items = _raw_list(
                clients, subscription, scope.rstrip("/") + "/providers/Microsoft.PolicyInsights/remediations"
            )
        return [Resource.from_arm(item) for item in items]

    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        found: dict[str, Resource] = {}
        for batch in pool.map(listed, sorted(scopes)):
            for remediation in batch:
                found.setdefault(remediation.key, remediation)
    return list(found.values())
