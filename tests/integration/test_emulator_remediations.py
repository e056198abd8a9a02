"""Remediation tasks an estate describes (an export of past runs) serve what they carry."""

from __future__ import annotations

from collections.abc import Callable

from azure.mgmt.policyinsights import PolicyInsightsClient

from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc


def test_list_deployments_of_a_seeded_task_serves_its_recorded_deployments(
    emulator_factory: Callable[..., Served],
) -> None:
    failure = {"code": "AuthorizationFailed", "message": "The client 'x' does not have authorization."}
    estate = sc.landing_zone()
    estate["resources"].append(
        {
            "id": f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/last-week",
            "name": "last-week",
            "type": "Microsoft.PolicyInsights/remediations",
            "properties": {
                "policyAssignmentId": sc.A_OLD["id"],
                "provisioningState": "Failed",
                "deployments": [
                    {"remediatedResourceId": sc.VM_RESTORED["id"], "status": "Failed", "error": failure},
                ],
            },
        }
    )
    served = emulator_factory(estate)
    client = PolicyInsightsClient(served.credential(), b.S1, **served.client_kwargs())
    listed = list(client.remediations.list_deployments_at_subscription("last-week", api_version="2021-10-01"))
    assert [(d.remediated_resource_id, d.status, d.error.code) for d in listed] == [
        (sc.VM_RESTORED["id"], "Failed", "AuthorizationFailed")
    ]
    assert client.remediations.get_at_subscription("last-week").provisioning_state == "Failed"
