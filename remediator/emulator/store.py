"""The generic ARM resource store: resources as JSON dicts, keyed by lowercase id.

Ids keep the casing they were created with (ARM returns them that way) but are looked up
case-insensitively. Stored dicts keep every field they were given, so unknown fields are served
back untouched. The store is thread-safe on its own; the dispatcher additionally serialises
handlers with the state's lock.

``version`` (and ``type_version(t)`` per type) grows with every change; Resource Graph caches
its rows by them. So a handler that
changes a dict it got from :meth:`ResourceStore.get_live` must call :meth:`ResourceStore.put`
(or :meth:`ResourceStore.touch`) afterwards.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from typing import Any


def split_id(resource_id: str) -> list[str]:
    stripped = resource_id.strip("/")
    if "//" in stripped:  # rare: drop empty segments the slow way
        return [part for part in stripped.split("/") if part]
    return stripped.split("/") if stripped else []


def resource_type_of(resource_id: str) -> str:
    """The ARM type of an id, e.g. ``Microsoft.Compute/virtualMachines/extensions``.

    ``/subscriptions/S`` -> ``Microsoft.Resources/subscriptions``; a resource group ->
    ``Microsoft.Resources/resourceGroups``. For extension resources (``.../providers/NS/t/n``
    under another resource) the type is that of the last provider segment.
    """
    normalised = "/" + resource_id.strip("/")
    cut = normalised.lower().rfind("/providers/")
    if cut < 0:
        parts = split_id(normalised)
        if len(parts) == 2 and parts[0].lower() == "subscriptions":
            return "Microsoft.Resources/subscriptions"
        if len(parts) == 4 and parts[2].lower() == "resourcegroups":
            return "Microsoft.Resources/resourceGroups"
        return ""
    tail = split_id(normalised[cut + len("/providers/") :])
    if len(tail) < 3:
        return ""
    return "/".join([tail[0], *tail[1::2]])


def subscription_of(resource_id: str) -> str:
    parts = split_id(resource_id)
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return ""


def resource_group_of(resource_id: str) -> str:
    parts = split_id(resource_id)
    if len(parts) >= 4 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups":
        return parts[3]
    return ""


def parent_of(resource_id: str) -> str:
    """One level up: a VM for its extension, the resource group for a VM (ARM's nesting)."""
    parts = split_id(resource_id)
    parent = parts[:-2]
    if len(parent) >= 2 and parent[-2].lower() == "providers":
        parent = parent[:-2]  # ".../providers/NS/type/name": the parent is what precedes "providers"
    return "/" + "/".join(parent) if parent else ""


def is_resource_id(value: str) -> bool:
    """True for an id ARM could have produced: a subscription, group, or provider resource."""
    parts = split_id(value)
    if not value.startswith("/") or len(parts) < 2 or len(parts) % 2 == 1:
        return False
    # ARM never returns an id with an empty, "." or ".." segment: such an id climbs elsewhere.
    if "//" in value.rstrip("/") or any(part in (".", "..") for part in parts):
        return False
    first = parts[0].lower()
    if first not in ("subscriptions", "providers"):
        return False
    if first == "subscriptions" and (len(parts) == 2 or (len(parts) == 4 and parts[2].lower() == "resourcegroups")):
        return True
    return bool(resource_type_of(value))


class ResourceStore:
    """Thread-safe map lowercase id -> resource dict, with an index by lowercase type."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._by_id: dict[str, dict[str, Any]] = {}
        self._by_type: dict[str, dict[str, dict[str, Any]]] = {}
        self._type_versions: dict[str, int] = {}
        self.version = 0

    def __len__(self) -> int:
        return len(self._by_id)

    def _index(self, key: str, resource: dict[str, Any]) -> None:
        resource_type = str(resource.get("type", "")).lower()
        self._by_id[key] = resource
        self._by_type.setdefault(resource_type, {})[key] = resource
        self._changed(resource_type)

    def _unindex(self, key: str) -> dict[str, Any] | None:
        removed = self._by_id.pop(key, None)
        if removed is not None:
            resource_type = str(removed.get("type", "")).lower()
            self._by_type.get(resource_type, {}).pop(key, None)
            self._changed(resource_type)
        return removed

    def _changed(self, resource_type: str) -> None:
        self.version += 1
        self._type_versions[resource_type] = self._type_versions.get(resource_type, 0) + 1

    def get(self, resource_id: str) -> dict[str, Any] | None:
        """A deep copy of the resource, or None."""
        with self._lock:
            found = self._by_id.get(resource_id.lower())
            return copy.deepcopy(found) if found is not None else None

    def get_live(self, resource_id: str) -> dict[str, Any] | None:
        """The stored dict itself (no copy) — only for read paths that never mutate it."""
        return self._by_id.get(resource_id.lower())

    def exists(self, resource_id: str) -> bool:
        return resource_id.lower() in self._by_id

    def put(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace by ``resource["id"]``; fills ``type`` and ``name`` from the id."""
        resource_id = str(resource["id"])
        if "type" not in resource:
            resource["type"] = resource_type_of(resource_id)
        if "name" not in resource:
            resource["name"] = resource_id.rstrip("/").rsplit("/", 1)[-1]
        key = resource_id.lower()
        with self._lock:
            self._unindex(key)
            self._index(key, resource)
        return resource

    def delete(self, resource_id: str) -> dict[str, Any] | None:
        """Remove the resource and everything nested under its id; return what was removed."""
        key = resource_id.lower()
        with self._lock:
            removed = self._unindex(key)
            if removed is None:
                return None
            prefix = key + "/"
            for child in [k for k in self._by_id if k.startswith(prefix)]:
                self._unindex(child)
            return removed

    def touch(self, resource_id: str) -> None:
        """Record that a live dict was changed in place (invalidates Resource Graph's cache)."""
        with self._lock:
            found = self._by_id.get(resource_id.lower())
            if found is not None:
                self._changed(str(found.get("type", "")).lower())

    def types(self) -> list[str]:
        """Every lowercase type that has (or had) resources."""
        with self._lock:
            return [t for t, members in self._by_type.items() if members]

    def type_version(self, resource_type: str) -> int:
        """Grows whenever a resource of this type is added, replaced, changed or removed."""
        return self._type_versions.get(resource_type.lower(), 0)

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        """Live dicts of one type (case-insensitive), in insertion order."""
        with self._lock:
            return list(self._by_type.get(resource_type.lower(), {}).values())

    def under(self, scope: str, resource_type: str | None = None) -> list[dict[str, Any]]:
        """Live dicts whose id lies under ``scope`` (any depth), optionally of one type."""
        prefix = scope.rstrip("/").lower() + "/"
        with self._lock:
            pool = (
                self._by_type.get(resource_type.lower(), {}).items()
                if resource_type is not None
                else self._by_id.items()
            )
            return [resource for key, resource in pool if key.startswith(prefix)]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        with self._lock:
            return iter(list(self._by_id.values()))
