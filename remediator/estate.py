"""The immutable, indexed view of a tenant that playbooks query.

`remediator.azure.inventory` builds it from bulk reads (Resource Graph, provider states); the
playbooks read it and never do I/O. Ids are indexed lowercased because ARM compares them
case-insensitively and returns them in whatever casing the resource was created with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


def parse_resource_id(resource_id: str) -> dict[str, str]:
    """Split an ARM id into subscription, resource group, provider and name parts.

    >>> parts = parse_resource_id("/subscriptions/S/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1")
    >>> parts["subscription"], parts["resource_group"], parts["type"], parts["name"]
    ('S', 'rg', 'Microsoft.Compute/virtualMachines', 'vm1')
    """
    parts = [p for p in resource_id.split("/") if p]
    out: dict[str, str] = {}
    i = 0
    types: list[str] = []
    name = ""
    while i < len(parts):
        key = parts[i].lower()
        value = parts[i + 1] if i + 1 < len(parts) else ""
        if key == "subscriptions" and "subscription" not in out:
            out["subscription"] = value
            i += 2
        elif key == "resourcegroups" and "resource_group" not in out:
            out["resource_group"] = value
            i += 2
        elif key == "providers":
            out["namespace"] = value
            types = [value]
            i += 2
            if i < len(parts):
                types.append(parts[i])
                name = parts[i + 1] if i + 1 < len(parts) else ""
                i += 2
        else:
            types.append(parts[i])
            name = value
            i += 2
    if types:
        out["type"] = "/".join(types)
    if name:
        out["name"] = name
    return out


def parent_id(resource_id: str) -> str:
    """The id one level up (a VM for its extension, a resource group for a VM)."""
    parts = resource_id.rstrip("/").split("/")
    parent = "/".join(parts[:-2])
    if parent.lower().endswith("/providers"):
        parent = parent[: -len("/providers")]
    return parent


# Top-level fields a Resource holds in its own slots; everything else ARM or Resource Graph sent
# (kind, sku, zones, managedBy, resourceGroup, subscriptionId, tenantId, ...) is kept in ``extra``,
# which a Compactor shares among all the resources of a resource group.
_OWN_FIELDS = frozenset({"id", "name", "type", "location", "tags", "identity", "properties"})


@dataclass(frozen=True, slots=True)
class Resource:
    """An ARM resource as Resource Graph or ARM returns it.

    Slots, not a dict per instance: an estate holds hundreds of thousands of these. ``raw`` gives
    the resource back in ARM's shape (its own fields plus ``extra``).
    """

    id: str
    name: str
    type: str
    location: str = ""
    tags: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    properties: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    identity: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_arm(cls, obj: Mapping[str, Any], compactor: Compactor | None = None) -> Resource:
        """From ARM's (or a Resource Graph row's) JSON; with ``compactor``, equal strings and equal
        sub-objects are shared with the other resources it has seen (see `Compactor`)."""
        share = compactor.value if compactor is not None else _same
        rid = str(obj.get("id", ""))
        extra = {k: v for k, v in obj.items() if k not in _OWN_FIELDS}
        return cls(
            id=rid,
            name=share(str(obj.get("name") or parse_resource_id(rid).get("name", ""))),
            type=share(str(obj.get("type") or parse_resource_id(rid).get("type", ""))),
            location=share(str(obj.get("location") or "")),
            tags=share(obj.get("tags") or EMPTY),
            properties=share(obj.get("properties") or EMPTY),
            identity=share(obj.get("identity") or EMPTY),
            extra=share(extra) if extra else EMPTY,
        )

    @property
    def raw(self) -> Mapping[str, Any]:
        """The resource in ARM's JSON shape (built on each call: it is rarely needed)."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.location:
            out["location"] = self.location
        for key, value in (("tags", self.tags), ("identity", self.identity), ("properties", self.properties)):
            if value:
                out[key] = value
        out.update(self.extra)
        return out

    @property
    def key(self) -> str:
        return self.id.lower()

    @property
    def type_key(self) -> str:
        return self.type.lower()

    @property
    def subscription_id(self) -> str:
        return parse_resource_id(self.id).get("subscription", "")

    @property
    def resource_group(self) -> str:
        return parse_resource_id(self.id).get("resource_group", "")


def _same(value: Any) -> Any:
    return value


class Compactor:
    """Shares equal strings and equal JSON sub-objects across the rows of one inventory read.

    At 100,000 machines most of what Resource Graph returns repeats: locations, types, states,
    image references, patch settings, whole ``instanceView`` status lists. ``json.loads`` makes a
    new object for every occurrence; this keeps one. Estates are read-only (playbooks are pure),
    so sharing is invisible to them. Containers are compared by their already-shared children's
    identity, so a lookup key is one flat tuple, not a copy of the tree. Drop the compactor when
    the read ends: its table only serves deduplication.
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._containers: dict[tuple[Any, ...], Any] = {}

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._strings.setdefault(value, value)
        if isinstance(value, dict):
            items = [(self._strings.setdefault(k, k), self.value(v)) for k, v in value.items()]
            key: tuple[Any, ...] = ("{", *(part for k, v in items for part in (k, *_identity(v))))
            return self._containers.setdefault(key, dict(items))
        if isinstance(value, list):
            members = [self.value(v) for v in value]
            key = ("[", *(part for v in members for part in _identity(v)))
            return self._containers.setdefault(key, members)
        return value


def _identity(value: Any) -> tuple[Any, ...]:
    """What makes a (shared) value equal to another: containers by identity, scalars by type and value
    (``1``, ``1.0`` and ``True`` are equal in Python, not in JSON)."""
    if isinstance(value, dict | list):
        return ("#", id(value))
    return (type(value).__name__, value)


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    display_name: str = ""
    state: str = "Enabled"
    # Lowercased namespace -> registrationState, for the namespaces the inventory was asked for.
    providers: Mapping[str, str] = field(default_factory=lambda: EMPTY)

    def provider_state(self, namespace: str) -> str | None:
        return self.providers.get(namespace.lower())


@dataclass(frozen=True)
class PolicyState:
    resource_id: str
    policy_assignment_id: str
    policy_definition_id: str
    compliance_state: str
    policy_definition_reference_id: str = ""
    policy_set_definition_id: str = ""
    timestamp: str = ""
    raw: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True)
class Estate:
    """Everything a run knows about the tenant, read once, indexed for the playbooks."""

    now: datetime
    tenant_id: str = ""
    subscriptions: tuple[Subscription, ...] = ()
    resources: tuple[Resource, ...] = ()
    policy_states: tuple[PolicyState, ...] = ()
    # Built-in definitions the inventory resolved (policy and role), by lowercase id.
    definitions: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)
    _by_id: dict[str, Resource] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_type: dict[str, tuple[Resource, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_vm_id: dict[str, Resource] = field(default_factory=dict, init=False, repr=False, compare=False)
    _children: dict[str, tuple[Resource, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _subs: dict[str, Subscription] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_type: dict[str, list[Resource]] = {}
        children: dict[str, list[Resource]] = {}
        for res in self.resources:
            self._by_id[res.key] = res
            by_type.setdefault(res.type_key, []).append(res)
            children.setdefault(parent_id(res.key), []).append(res)
            vm_id = res.properties.get("vmId") if isinstance(res.properties, Mapping) else None
            if isinstance(vm_id, str):
                self._by_vm_id[vm_id.lower()] = res
        self._by_type.update({k: tuple(v) for k, v in by_type.items()})
        self._children.update({k: tuple(v) for k, v in children.items()})
        self._subs.update({s.subscription_id.lower(): s for s in self.subscriptions})

    def get(self, resource_id: str) -> Resource | None:
        return self._by_id.get(resource_id.lower())

    def of_type(self, *types: str) -> tuple[Resource, ...]:
        out: list[Resource] = []
        for t in types:
            out.extend(self._by_type.get(t.lower(), ()))
        return tuple(out)

    def by_vm_id(self, vm_id: str) -> Resource | None:
        return self._by_vm_id.get(vm_id.lower())

    def children(self, parent: str, type_: str | None = None) -> tuple[Resource, ...]:
        found = self._children.get(parent.lower(), ())
        if type_ is None:
            return found
        return tuple(r for r in found if r.type_key == type_.lower())

    def subscription(self, subscription_id: str) -> Subscription | None:
        return self._subs.get(subscription_id.lower())

    def in_subscription(self, subscription_id: str, *types: str) -> tuple[Resource, ...]:
        prefix = f"/subscriptions/{subscription_id.lower()}/"
        pool: Iterable[Resource] = self.of_type(*types) if types else self.resources
        return tuple(r for r in pool if r.key.startswith(prefix))
