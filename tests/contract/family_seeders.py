"""The per-family part of seeding, and ``estate_for`` that puts it together with seeding.py.

An operation family is the ``Namespace/type`` its template addresses (``swagger.service_of``);
its seeder adds what only that family's examples show: policy state records, provider
registration states, Resource Graph rows, a remediation in the state an action needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tests.contract.seed_initiatives import assign_initiatives
from tests.contract.seed_principals import principal_ids, seed_identity, seed_principal, shown_identities
from tests.contract.seeding import (
    LOCATION,
    MANAGEMENT_GROUP_TYPE,
    REMEDIABLE_DEFINITION,
    Prelude,
    Seed,
    arm_objects,
    is_resource_id,
    referenced_ids,
    scope_of,
    stand_in,
)
from tests.contract.swagger import Example, service_of

_STATE_RECORD_KEYS = ("resourceId", "policyAssignmentId", "policyDefinitionId", "policyDefinitionReferenceId",
                      "policySetDefinitionId", "timestamp")  # fmt: skip


def estate_for(example: Example, request_path: str, request_body: Any) -> tuple[dict[str, Any], list[Prelude]]:
    """The estate the example implies, and the requests that must run before its own."""
    seed = Seed(request_path=request_path)
    operation = example.operation
    bodies = [r.get("body") for status, r in example.responses.items() if str(status).startswith("2")]
    seed.ensure_scopes(request_path, own_namespace=service_of(operation.template).split("/")[0])
    # A PUT example that answers 200 only shows an update: the resource was there before.
    creates = operation.method == "PUT" and "201" in example.responses
    for body in bodies:
        for resource in arm_objects(body):
            if not creates:
                seed.put(resource)
    for arm_id in [*referenced_ids(request_body), *(i for b in bodies for i in referenced_ids(b))]:
        if creates and arm_id.lower() == request_path.lower():
            continue
        seed.put(stand_in(arm_id), replace=False)
    for identity_id, shown in [i for b in [request_body, *bodies] for i in shown_identities(b)]:
        seed_identity(seed, identity_id, shown)
    for principal in {p.lower(): p for b in [request_body, *bodies] for p in principal_ids(b)}.values():
        seed_principal(seed, principal)
    assign_initiatives(seed, [request_body, *bodies])
    family = FAMILIES.get(service_of(operation.template))
    if family is not None:
        family(seed, example, request_path, bodies)
    return seed.estate(), seed.preludes


def _policy_states(seed: Seed, example: Example, request_path: str, bodies: list[Any]) -> None:
    """Policy state records behind the rows the example's response lists (one page per row)."""
    for body in bodies:
        for row in (body or {}).get("value") or []:
            if not row.get("resourceId"):
                continue
            seed.put(stand_in(str(row["resourceId"])), replace=False)
            record = {key: row[key] for key in _STATE_RECORD_KEYS if row.get(key)}
            record["complianceState"] = row.get("complianceState") or (
                "Compliant" if row.get("isCompliant") else "NonCompliant"
            )
            seed.policy_states.append(record)
    seed.knobs["pageSize"] = 1  # so that a `$skipToken` example has a next page to ask for


def _providers(seed: Seed, example: Example, request_path: str, bodies: list[Any]) -> None:
    """The subscription lists the provider in the registration state the response shows."""
    subscription = str(example.parameters.get("subscriptionId", ""))
    for body in bodies:
        if isinstance(body, Mapping) and body.get("namespace"):
            providers = seed.subscription(subscription).setdefault("providers", {})
            providers[str(body["namespace"])] = str(body.get("registrationState") or "Registered")


def _remediations(seed: Seed, example: Example, request_path: str, bodies: list[Any]) -> None:
    """An action on a remediation needs the remediation: still running before a cancel; run to the
    end, over the resources whose deployments the example lists, before a listDeployments."""
    if example.operation.method != "POST":
        return
    remediation_id, action = request_path.rsplit("/", 1)
    assignment = f"{scope_of(remediation_id)}/providers/Microsoft.Authorization/policyAssignments/contract"
    if action.lower() == "listdeployments":
        seed.put(stand_in(assignment), replace=False)
        for body in bodies:
            for deployment in (body or {}).get("value") or []:
                target = str(deployment.get("remediatedResourceId") or "")
                if not is_resource_id(target):
                    continue
                seed.put({**stand_in(target), "location": deployment.get("resourceLocation") or LOCATION})
                seed.policy_states.append({"resourceId": target, "policyAssignmentId": assignment,
                                           "policyDefinitionId": REMEDIABLE_DEFINITION,
                                           "complianceState": "NonCompliant"})  # fmt: skip
        seed.preludes.append(Prelude("PUT", remediation_id, {"properties": {"policyAssignmentId": assignment}}))
        seed.preludes.append(Prelude("GET", remediation_id, until_done=True))
        return
    shown = seed.resources.get(remediation_id.lower())
    if shown is None:
        seed.put(stand_in(assignment), replace=False)
        shown = {"id": remediation_id, "properties": {"policyAssignmentId": assignment}}
        seed.put(shown)
    shown.setdefault("properties", {})["provisioningState"] = "Evaluating"


def _resource_graph(seed: Seed, example: Example, request_path: str, bodies: list[Any]) -> None:
    """The rows a query returns are resources (with the columns the example projects)."""
    for body in bodies:
        for row in (body or {}).get("data") or []:
            if isinstance(row, Mapping) and str(row.get("id", "")).startswith("/"):
                seed.put({k: v for k, v in row.items() if k in ("id", "name", "location", "tags", "properties")})
    query = example.parameters.get("query") or {}
    for subscription in query.get("subscriptions") or []:
        seed.subscription(str(subscription))
    for group in query.get("managementGroups") or []:  # the query's scope: the rows' subscriptions are below
        seed.put(stand_in(f"/providers/{MANAGEMENT_GROUP_TYPE}/{group}"), replace=False)


FAMILIES: dict[str, Callable[[Seed, Example, str, list[Any]], None]] = {
    "microsoft.policyinsights/policystates": _policy_states,
    "microsoft.resources/providers": _providers,
    "microsoft.policyinsights/remediations": _remediations,
    "microsoft.resourcegraph/resources": _resource_graph,
}
