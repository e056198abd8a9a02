"""The principals and user-assigned identities examples name, seeded so the directory knows them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from tests.contract.seeding import GUID, IDENTITY_TYPE, Seed, mappings_in, stand_in


def principal_ids(node: Any) -> Iterator[str]:
    for mapping in mappings_in(node):
        value = mapping.get("principalId")
        if isinstance(value, str) and GUID.match(value):
            yield value


def shown_identities(node: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(identity id, what the body shows of it) for each entry of a ``userAssignedIdentities`` map."""
    for mapping in mappings_in(node):
        identities = mapping.get("userAssignedIdentities")
        if isinstance(identities, Mapping):
            yield from ((str(k), v if isinstance(v, Mapping) else {}) for k, v in identities.items())


def seed_identity(seed: Seed, identity_id: str, shown: Mapping[str, Any]) -> None:
    """A user-assigned identity an example names, with the principal and client ids it shows."""
    identity = seed.resources.get(identity_id.lower()) or stand_in(identity_id)
    props = identity.setdefault("properties", {})
    if shown.get("principalId") and not shown.get("clientId"):
        props["clientId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, str(shown["principalId"])))
    props.update({key: str(shown[key]) for key in ("principalId", "clientId") if shown.get(key)})
    seed.put(identity, replace=False)


def seed_principal(seed: Seed, principal_id: str) -> None:
    """The directory knows the principal the example names (a user-assigned identity holds it)."""
    if not seed.subscriptions:
        return
    for resource in seed.resources.values():
        if str((resource.get("properties") or {}).get("principalId", "")).lower() == principal_id.lower():
            return  # an identity the example names holds it already
    subscription = next(iter(seed.subscriptions.values()))["subscriptionId"]
    identity_id = (
        f"/subscriptions/{subscription}/resourceGroups/contract-identities/providers/{IDENTITY_TYPE}/p-{principal_id}"
    )
    seed_identity(seed, identity_id, {"principalId": principal_id})
