"""Read the estate in bulk: Resource Graph per table, provider states per subscription, definitions.

Never one read per machine: resources come from one Resource Graph query per table (paged);
the only per-subscription calls are provider states, and only for the namespaces the selected
playbooks need, run on a small thread pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceNotFoundError

from ..errors import UsageError
from ..estate import Compactor, Estate, PolicyState, Resource, Subscription
from ..model import Scope
from ..playbook import Needs
from ..shards import Shard
from .arm_errors import read_errors
from .clients import ArmClients
from .definitions import read_definitions
from .referenced_reads import (
    ASSIGNMENT_TYPE,
    CONFIGURATION_TYPE,
    machines_named_by_stale_assignments,
    referenced_configurations,
    role_assignments_on_referenced,
)
from .remediation_reads import REMEDIATION_TYPE, read_remediations, with_failed_deployments
from .resource_graph import (
    NON_COMPLIANT_POLICY_STATES,
    TENANT_LEVEL_TYPES,
    GraphReader,
    GraphScope,
    build_query,
    group_by_table,
)
from .sdk_values import enum_text, raw_body

SUBSCRIPTION_TYPE = "microsoft.resources/subscriptions"
POLICY_STATE_TYPE = "microsoft.policyinsights/policystates"
POLICY_ASSIGNMENT_TYPE = "microsoft.authorization/policyassignments"
MANAGEMENT_GROUP_TYPE = "microsoft.management/managementgroups"
ROLE_ASSIGNMENT_TYPE = "microsoft.authorization/roleassignments"


def _visible_subscriptions(clients: ArmClients) -> tuple[dict[str, Subscription], str]:
    """Every subscription the credential sees, by lowercase id, and their tenant (one paged call)."""
    found: dict[str, Subscription] = {}
    tenant_id = ""
    with read_errors():
        for sub in clients.subscriptions().subscriptions.list():
            sub_id = str(sub.subscription_id or "")
            if sub_id:
                tenant_id = tenant_id or str(getattr(sub, "tenant_id", "") or "")
                found[sub_id.lower()] = Subscription(
                    subscription_id=sub_id,
                    display_name=str(sub.display_name or ""),
                    state=enum_text(sub.state) or "Enabled",
                )
    return found, tenant_id


def _check_management_group(clients: ArmClients, group: str) -> None:
    with read_errors():
        try:
            clients.management_groups().management_groups.get(group)
        except ResourceNotFoundError:
            raise UsageError(f"management group {group} not found or not accessible") from None


def resolve_subscriptions(
    clients: ArmClients, scope: Scope, graph: GraphReader
) -> tuple[tuple[Subscription, ...], str]:
    """The subscriptions ``scope`` covers and the tenant; an unknown subscription is a UsageError."""
    visible, tenant_id = _visible_subscriptions(clients)
    if scope.subscriptions:
        missing = [s for s in scope.subscriptions if s.lower() not in visible]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise UsageError(f"subscription {missing[0]} not found or not accessible{more}")
        return tuple(visible[s.lower()] for s in dict.fromkeys(scope.subscriptions)), tenant_id
    if scope.management_group:
        _check_management_group(clients, scope.management_group)
        query = build_query("resourcecontainers", [SUBSCRIPTION_TYPE])
        rows = graph.rows(GraphScope(management_group=scope.management_group), query)
        subs: list[Subscription] = []
        for row in rows:
            sub_id = str(row.get("subscriptionId") or row.get("name") or "")
            known = visible.get(sub_id.lower())
            subs.append(known or Subscription(subscription_id=sub_id, display_name=str(row.get("name", ""))))
        return tuple(subs), tenant_id
    return tuple(visible.values()), tenant_id


def _provider_states(
    clients: ArmClients, subscriptions: Iterable[Subscription], namespaces: Iterable[str]
) -> dict[str, dict[str, str]]:
    """Subscription id (lowercase) -> lowercase namespace -> registrationState."""
    wanted = sorted({ns for ns in namespaces})
    pairs = [(sub.subscription_id, ns) for sub in subscriptions for ns in wanted]
    if not pairs:
        return {}

    def read(pair: tuple[str, str]) -> tuple[str, str, str]:
        sub_id, ns = pair
        with read_errors():
            provider = clients.resources(sub_id).providers.get(ns)
        return sub_id.lower(), ns.lower(), enum_text(provider.registration_state)

    states: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        for sub_key, ns_key, state in pool.map(read, pairs):
            states.setdefault(sub_key, {})[ns_key] = state
    return states


def _policy_state(row: Mapping[str, Any]) -> PolicyState:
    props = row.get("properties") or {}
    return PolicyState(
        resource_id=str(props.get("resourceId", "")),
        policy_assignment_id=str(props.get("policyAssignmentId", "")),
        policy_definition_id=str(props.get("policyDefinitionId", "")),
        compliance_state=str(props.get("complianceState", "")),
        policy_definition_reference_id=str(props.get("policyDefinitionReferenceId") or ""),
        policy_set_definition_id=str(props.get("policySetDefinitionId") or ""),
        timestamp=str(props.get("timestamp") or ""),
        raw=row,
    )


def _assignments_above_scope(
    clients: ArmClients, resources: list[Resource], policy_states: list[PolicyState], any_subscription: str | None
) -> list[Resource]:
    """Policy assignments that policy states name but Resource Graph did not return.

    A subscription-scoped Resource Graph query does not see assignments made at a management
    group above it, yet their states and identities matter. There are few distinct assignments
    (not one per machine), so each is read by id, concurrently; one deleted since its states were
    recorded (404) is left out.
    """
    known = {r.key for r in resources}
    missing = sorted({ps.policy_assignment_id for ps in policy_states if ps.policy_assignment_id.lower() not in known})
    if not missing or not any_subscription:
        return []
    policy = clients.policy(any_subscription)

    def read(assignment_id: str) -> Resource | None:
        with read_errors():
            try:
                return Resource.from_arm(policy.policy_assignments.get_by_id(assignment_id, cls=raw_body))
            except ResourceNotFoundError:
                return None

    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        return [found for found in pool.map(read, missing) if found is not None]


def _assignments_at_management_groups(graph: GraphReader, scope: Scope) -> list[Resource]:
    """Shard 0's share of tenant-wide work: every policy assignment made at a management group.

    Work at a management group belongs to shard 0 (remediator.shards), but an assignment there is
    otherwise only learnt from its states in the shard's own subscriptions, which may hold none of
    its machines. Assignments are few, so shard 0 reads all of them in the run's scope.
    """
    where = GraphScope(management_group=scope.management_group) if scope.management_group else GraphScope(tenant=True)
    rows = graph.stream(where, build_query("policyresources", [POLICY_ASSIGNMENT_TYPE]))
    above = "/providers/microsoft.management/managementgroups/"
    return [Resource.from_arm(row) for row in rows if str(row.get("id", "")).lower().startswith(above)]


def _role_assignments_above(clients: ArmClients, subscriptions: Iterable[Subscription]) -> list[Resource]:
    """Role assignments at or above each subscription (management groups, the tenant root).

    Resource Graph over subscriptions returns assignments at the subscription and below; a
    role a principal inherits from a management group is invisible there. ``atScope()`` lists
    exactly the other half, one call per subscription.
    """

    def read(subscription_id: str) -> list[Resource]:
        ops = clients.authorization(subscription_id).role_assignments
        with read_errors():
            return [
                Resource.from_arm(item.serialize(keep_readonly=True))
                for item in ops.list_for_scope(f"/subscriptions/{subscription_id}", filter="atScope()")
            ]

    with ThreadPoolExecutor(max_workers=max(1, clients.settings.read_concurrency)) as pool:
        return [r for batch in pool.map(read, [s.subscription_id for s in subscriptions]) for r in batch]


def _subscription_ancestry(graph: GraphReader) -> list[Resource]:
    """Every visible subscription's ``resourcecontainers`` row, for its place in the hierarchy.

    Resource Graph's management group rows name their parent and ancestors, never their children;
    a subscription's groups are in its own row's ``properties.managementGroupAncestorsChain``
    (parent first; learn.microsoft.com/azure/governance/management-groups/resource-graph-samples).
    Read tenant-wide, not only within the run's scope: a linked image in a sibling subscription
    is inside a management group's grant only if that subscription's chain says so. One query.
    """
    rows = graph.rows(GraphScope(tenant=True), build_query("resourcecontainers", [SUBSCRIPTION_TYPE]))
    return [Resource.from_arm(row) for row in rows]


def _merge(resources: list[Resource], more: Iterable[Resource]) -> None:
    """Add ``more`` to ``resources``, skipping ids already there (ids compare case-insensitively)."""
    known = {r.key for r in resources}
    for resource in more:
        if resource.key not in known:
            known.add(resource.key)
            resources.append(resource)


def _table_rows(graph: GraphReader, scope: GraphScope, table: str, types: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """Rows of ``types`` from ``table``: tenant-level types tenant-wide, the rest within ``scope``."""
    scoped = tuple(t for t in types if t not in TENANT_LEVEL_TYPES)
    above = tuple(t for t in types if t in TENANT_LEVEL_TYPES)
    if scoped:
        yield from graph.stream(scope, build_query(table, scoped))
    if above:
        yield from graph.stream(GraphScope(tenant=True), build_query(table, above))


def _in_shard(subscriptions: tuple[Subscription, ...], scope: Scope) -> tuple[Subscription, ...]:
    """A sharded run (``--shard``) keeps the subscriptions whose stable hash lands on its index."""
    if scope.shard_count <= 1:
        return subscriptions
    shard = Shard(scope.shard_index, scope.shard_count)
    return tuple(s for s in subscriptions if shard.owns_subscription(s.subscription_id))


def read_estate(clients: ArmClients, scope: Scope, needs: Needs, now: datetime | None = None) -> Estate:
    graph = GraphReader(clients)
    subscriptions, tenant_id = resolve_subscriptions(clients, scope, graph)
    subscriptions = _in_shard(subscriptions, scope)
    # A shard reads its own subscriptions, never the whole management group.
    graph_scope = (
        GraphScope(management_group=scope.management_group)
        if scope.management_group and not scope.subscriptions and scope.shard_count <= 1
        else GraphScope(subscriptions=tuple(s.subscription_id for s in subscriptions))
    )
    wanted_types = {t.lower() for t in needs.resource_types} - {POLICY_STATE_TYPE}
    resources: list[Resource] = []
    policy_states: list[PolicyState] = []
    if subscriptions or graph_scope.management_group:
        # Each page is shared into compact resources as it arrives and then dropped (Compactor).
        compactor = Compactor()
        for table, table_types in group_by_table(wanted_types).items():
            rows = _table_rows(graph, graph_scope, table, table_types)
            resources.extend(Resource.from_arm(row, compactor) for row in rows)
        del compactor
        if needs.policy_states:
            policy_states = [_policy_state(row) for row in graph.stream(graph_scope, NON_COMPLIANT_POLICY_STATES)]

    any_subscription = subscriptions[0].subscription_id if subscriptions else None
    if MANAGEMENT_GROUP_TYPE in wanted_types:
        _merge(resources, _subscription_ancestry(graph))
    if POLICY_ASSIGNMENT_TYPE in wanted_types and scope.shard_count > 1 and scope.shard_index == 0:
        _merge(resources, _assignments_at_management_groups(graph, scope))
    if POLICY_ASSIGNMENT_TYPE in wanted_types:
        _merge(resources, _assignments_above_scope(clients, resources, policy_states, any_subscription))
    if ROLE_ASSIGNMENT_TYPE in wanted_types:
        _merge(resources, _role_assignments_above(clients, subscriptions))
        in_scope = {s.subscription_id.lower() for s in subscriptions}
        _merge(resources, role_assignments_on_referenced(clients, resources, in_scope))
    if REMEDIATION_TYPE in wanted_types:
        remediations = read_remediations(clients, [s.subscription_id for s in subscriptions], resources)
        _merge(resources, with_failed_deployments(clients, remediations))
    if CONFIGURATION_TYPE in wanted_types:
        _merge(resources, referenced_configurations(clients, resources))
    if ASSIGNMENT_TYPE in wanted_types and (subscriptions or graph_scope.management_group):
        _merge(resources, machines_named_by_stale_assignments(graph, resources))

    states = _provider_states(clients, subscriptions, needs.providers)
    with_providers = tuple(
        Subscription(
            subscription_id=s.subscription_id,
            display_name=s.display_name,
            state=s.state,
            providers=states.get(s.subscription_id.lower(), {}),
        )
        for s in subscriptions
    )
    definitions = read_definitions(clients, needs.definitions, any_subscription) if needs.definitions else {}
    return Estate(
        now=now or datetime.now(UTC),
        tenant_id=tenant_id,
        subscriptions=with_providers,
        resources=tuple(resources),
        policy_states=tuple(policy_states),
        definitions=definitions,
    )
