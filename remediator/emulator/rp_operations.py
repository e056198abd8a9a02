"""``GET /providers/{namespace}/operations``: each resource provider's catalogue of operations.

Only the providers the bot talks to are known, each at the api-versions Microsoft publishes for
its operations list; any other namespace or version is refused as ARM refuses it. Each catalogue
names the RBAC actions of the APIs the emulator serves (the shapes follow each provider's own
swagger: Policy Insights adds ``@odata.count``, Maintenance ``isDataAction`` and ``origin``).
"""

from __future__ import annotations

from typing import Any

from remediator.emulator import api_versions
from remediator.emulator.routing import (
    ROUTE_ANY_VERSION,
    ArmError,
    Request,
    Response,
    Route,
    require_api_version,
    route,
)
from remediator.emulator.state import EmulatorState

ROUTES: list[Route] = []

# namespace (lowercase) -> (canonical name, display provider, api-versions, [(action, resource, operation, text)])
CATALOGUE: dict[str, tuple[str, str, tuple[str, ...], list[tuple[str, str, str, str]]]] = {
    "microsoft.policyinsights": (
        "Microsoft.PolicyInsights",
        "Microsoft Policy Insights",
        ("2024-10-01", "2022-04-01", "2019-10-01"),
        [
            (
                "policyEvents/queryResults/action",
                "Policy Events",
                "Query Policy Events",
                "Query information about policy events.",
            ),
            (
                "policyStates/queryResults/action",
                "Policy States",
                "Query Policy States",
                "Query information about policy states.",
            ),
            (
                "policyStates/summarize/action",
                "Policy States",
                "Query Policy Latest States Summary",
                "Query summary information about policy latest states.",
            ),
            (
                "policyStates/triggerEvaluation/action",
                "Policy States",
                "Trigger Policy Evaluation",
                "Triggers a new compliance evaluation for the selected scope.",
            ),
            ("remediations/read", "Remediations", "Get Remediation", "Gets a policy remediation."),
            ("remediations/write", "Remediations", "Create Remediation", "Creates or updates a policy remediation."),
            ("remediations/delete", "Remediations", "Delete Remediation", "Deletes a policy remediation."),
            ("remediations/cancel/action", "Remediations", "Cancel Remediation", "Cancels an in-progress remediation."),
            (
                "remediations/listDeployments/read",
                "Remediations",
                "List Remediation Deployments",
                "Lists the deployments of a remediation.",
            ),
        ],
    ),
    "microsoft.maintenance": (
        "Microsoft.Maintenance",
        "Microsoft Maintenance",
        api_versions.MAINTENANCE,
        [
            ("maintenanceConfigurations/read", "Maintenance Configuration", "Read", "Read maintenance configuration."),
            (
                "maintenanceConfigurations/write",
                "Maintenance Configuration",
                "Write",
                "Create or update maintenance configuration.",
            ),
            (
                "maintenanceConfigurations/delete",
                "Maintenance Configuration",
                "Delete",
                "Delete maintenance configuration.",
            ),
            (
                "configurationAssignments/read",
                "Configuration Assignment",
                "Read",
                "Read maintenance configuration assignment.",
            ),
            (
                "configurationAssignments/write",
                "Configuration Assignment",
                "Write",
                "Create or update maintenance configuration assignment.",
            ),
            (
                "configurationAssignments/delete",
                "Configuration Assignment",
                "Delete",
                "Delete maintenance configuration assignment.",
            ),
            ("applyUpdates/read", "Apply Updates", "Read", "Read upgrade status."),
            ("applyUpdates/write", "Apply Updates", "Write", "Apply updates to a resource."),
            ("updates/read", "Updates", "Read", "Read pending updates of a resource."),
        ],
    ),
    "microsoft.resources": (
        "Microsoft.Resources",
        "Microsoft Resources",
        api_versions.RESOURCES,
        [
            ("subscriptions/read", "Subscription", "Get Subscription", "Gets the list of subscriptions."),
            (
                "subscriptions/resourceGroups/read",
                "Resource Group",
                "Get Resource Group",
                "Gets or lists resource groups.",
            ),
            (
                "subscriptions/resourceGroups/write",
                "Resource Group",
                "Update Resource Group",
                "Creates or updates a resource group.",
            ),
            (
                "subscriptions/resourceGroups/delete",
                "Resource Group",
                "Delete Resource Group",
                "Deletes a resource group and all its resources.",
            ),
            (
                "subscriptions/providers/read",
                "Resource Provider",
                "Get Resource Providers",
                "Gets or lists resource providers.",
            ),
            (
                "subscriptions/resources/read",
                "Subscription Resource",
                "Get Subscription Resources",
                "Gets resources of a subscription.",
            ),
        ],
    ),
    "microsoft.resourcegraph": (
        "Microsoft.ResourceGraph",
        "Microsoft Resource Graph",
        api_versions.RESOURCE_GRAPH,
        [
            ("operations/read", "Operation", "Get Operations", "Gets the list of supported operations"),
            (
                "resources/read",
                "Resources",
                "Query resources",
                "Submits a query on resources within specified subscriptions, management groups or tenant scope",
            ),
        ],
    ),
}


@route(ROUTES, "GET", "/providers/{namespace}/operations", api_versions=ROUTE_ANY_VERSION, name="list_rp_operations")
def list_rp_operations(state: EmulatorState, request: Request) -> Response:
    namespace = request.params["namespace"]
    entry = CATALOGUE.get(namespace.lower())
    if entry is None:
        raise ArmError(
            404,
            "InvalidResourceType",
            f"The resource type 'operations' could not be found in the namespace '{namespace}'.",
        )
    canonical, provider, versions, operations = entry
    require_api_version(request, versions, what=f"{canonical}/operations")
    value: list[dict[str, Any]] = []
    for action, resource, operation, description in operations:
        item: dict[str, Any] = {
            "name": f"{canonical}/{action}",
            "display": {"provider": provider, "resource": resource, "operation": operation, "description": description},
        }
        if canonical in ("Microsoft.Maintenance", "Microsoft.ResourceGraph"):
            item["origin"] = "user,system"
        if canonical == "Microsoft.Maintenance":
            item["isDataAction"] = False
        value.append(item)
    body: dict[str, Any] = {"value": value}
    if canonical == "Microsoft.PolicyInsights":
        body = {"@odata.count": len(value), **body}
    return Response(200, body)
