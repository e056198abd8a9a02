"""The naive way, for `make bench` to compare against: what community scripts do with the SDK.

Written the way a PowerShell or Python loop over the portal's concepts reads (and the way this
project's issue 12 describes them): list the machines of each subscription, GET each machine,
list each machine's maintenance assignments, list the subscription's
non-compliant policy states, then create one remediation task per non-compliant state and wait
for it before creating the next. Unmodified SDK clients with their default pipeline (azure-core's
RetryPolicy honours ``Retry-After`` on 429), one request at a time. It reads what the bot reads
for these checks, so the request counts compare like with like.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import TokenCredential
from azure.mgmt.maintenance import MaintenanceManagementClient
from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.policyinsights.models import QueryOptions, Remediation
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.subscriptions import SubscriptionClient

MACHINE_TYPES = {
    "Microsoft.Compute/virtualMachines": "2024-07-01",
    "Microsoft.HybridCompute/machines": "2024-07-10",
}
TERMINAL = {"Succeeded", "Failed", "Canceled"}


@dataclass
class NaiveResult:
    machines: int = 0
    non_compliant: int = 0
    remediations: dict[str, int] = field(default_factory=dict)
    read_s: float = 0.0
    apply_s: float = 0.0


class Naive:
    def __init__(self, endpoint: str, ca_bundle: str, credential: TokenCredential, poll_seconds: float) -> None:
        self.common: dict[str, Any] = {
            "credential": credential,
            "base_url": endpoint,
            "credential_scopes": [endpoint.rstrip("/") + "/.default"],
            "connection_verify": ca_bundle,
        }
        self.poll_seconds = poll_seconds

    def read(self, result: NaiveResult) -> list[Any]:
        """Every machine, one by one; returns the non-compliant states to remediate."""
        started = time.perf_counter()
        states: list[Any] = []
        subscriptions = SubscriptionClient(**self.common)
        for sub in subscriptions.subscriptions.list():
            sub_id = str(sub.subscription_id)
            resources = ResourceManagementClient(subscription_id=sub_id, **self.common)
            maintenance = MaintenanceManagementClient(subscription_id=sub_id, **self.common)
            for resource_type, api_version in MACHINE_TYPES.items():
                namespace, kind = resource_type.split("/")
                for listed in resources.resources.list(filter=f"resourceType eq '{resource_type}'"):
                    result.machines += 1
                    resources.resources.get_by_id(str(listed.id), api_version=api_version)
                    group = str(listed.id).split("/")[4]
                    list(maintenance.configuration_assignments.list(group, namespace, kind, str(listed.name)))
            insights = PolicyInsightsClient(subscription_id=sub_id, **self.common)
            options = QueryOptions(filter="complianceState eq 'NonCompliant'")
            states.extend(insights.policy_states.list_query_results_for_subscription("latest", sub_id, options))
        result.non_compliant = len(states)
        result.read_s = time.perf_counter() - started
        return states

    def remediate(self, states: list[Any], result: NaiveResult) -> None:
        """One remediation task per non-compliant state, each waited for before the next."""
        started = time.perf_counter()
        clients: dict[str, PolicyInsightsClient] = {}
        for state in states:
            sub_id = str(state.subscription_id)
            insights = clients.setdefault(sub_id, PolicyInsightsClient(subscription_id=sub_id, **self.common))
            name = str(uuid.uuid4())
            task = Remediation(
                policy_assignment_id=state.policy_assignment_id,
                policy_definition_reference_id=state.policy_definition_reference_id or None,
            )
            created = insights.remediations.create_or_update_at_resource(str(state.resource_id), name, task)
            status = str(created.provisioning_state)
            while status not in TERMINAL:
                time.sleep(self.poll_seconds)
                status = str(insights.remediations.get_at_resource(str(state.resource_id), name).provisioning_state)
            result.remediations[status] = result.remediations.get(status, 0) + 1
        result.apply_s = time.perf_counter() - started
