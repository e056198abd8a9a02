"""api-versions of the services the bot calls that have no swagger in the spec folder.

Each entry names the azure-rest-api-specs file that publishes the version (checked against the
public repository), so a request at another version is a finding, not a guess. This is an
independent copy of Azure facts: it does not read the emulator's or the bot's own lists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Documented:
    versions: tuple[str, ...]
    source: str


_COMPUTE = Documented(
    ("2024-07-01",),
    "specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-07-01/virtualMachine.json",
)
_HYBRID_COMPUTE = Documented(
    ("2024-07-10",),
    "specification/hybridcompute/resource-manager/Microsoft.HybridCompute/stable/2024-07-10/HybridCompute.json",
)

# Keyed by what swagger.service_of() returns: the lower-case ``Namespace/type`` a path addresses.
DOCUMENTED: dict[str, Documented] = {
    "microsoft.compute/virtualmachines": _COMPUTE,
    "microsoft.hybridcompute/machines": _HYBRID_COMPUTE,
    "microsoft.resources/subscriptions": Documented(
        ("2022-12-01",),
        "specification/resources/resource-manager/Microsoft.Resources/stable/2022-12-01/subscriptions.json",
    ),
    "microsoft.authorization/roledefinitions": Documented(
        ("2022-04-01",),
        "specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/"
        "authorization-RoleDefinitionsCalls.json",
    ),
    "microsoft.authorization/policydefinitions": Documented(
        ("2025-03-01",),
        "specification/resources/resource-manager/Microsoft.Authorization/stable/2025-03-01/policyDefinitions.json",
    ),
    "microsoft.authorization/policysetdefinitions": Documented(
        ("2025-03-01",),
        "specification/resources/resource-manager/Microsoft.Authorization/stable/2025-03-01/policySetDefinitions.json",
    ),
    "microsoft.management/managementgroups": Documented(
        ("2023-04-01",),
        "specification/managementgroups/resource-manager/Microsoft.Management/stable/2023-04-01/management.json",
    ),
}

# Published versions of operations that a folder may hold only older swaggers of (the bot sends
# remediations at 2024-10-01; a folder from before it has 2021-10-01 alone). A request at one of
# these is then counted unchecked (no schema of its version to judge it by) instead of failing;
# once the folder holds the version, the request is judged by that version's swagger.
NEWER_THAN_FOLDER: dict[str, Documented] = {
    "microsoft.policyinsights/remediations": Documented(
        ("2024-10-01",),
        "specification/policyinsights/resource-manager/Microsoft.PolicyInsights/stable/2024-10-01/remediations.json",
    ),
}
