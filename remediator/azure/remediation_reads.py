"""Failed remediation deployments, read into the estate so policy-identity-roles can learn from them.

Resource Graph returns a remediation with its summary (``provisioningState``,
``deploymentStatus.failedDeployments``) but not its deployments, and the deployment's error (an
``AuthorizationFailed`` naming the scope the identity could not reach) is what the playbook reads.
Only failed remediations are expanded, one ``listDeployments`` each: there are a handful per
assignment, never one per machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..estate import Resource
from .arm_errors import read_errors
from .clients import ArmClients
from .policy_actions import RemediationTarget

REMEDIATION_TYPE = "microsoft.policyinsights/remediations"
# listDeployments answers the same at every version the bot uses; this one the specs hold.
LIST_API_VERSION = "2021-10-01"


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
