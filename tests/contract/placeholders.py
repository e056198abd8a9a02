"""Subscription ids that are placeholders (``subid``, ``subscriptionId``) made real for a replay.

Many examples in azure-rest-api-specs name their subscription with a word. ARM refuses such a
path with 400 ``InvalidSubscriptionId`` ("The provided subscription identifier 'subid' is
malformed or invalid", as Azure/apiops issue 460 and Azure/azure-cli issue 30953 show it), so
the example could never be answered as it shows. The word is a placeholder, not the point of the
example: it is replaced, everywhere in the example (parameters, paths, ids, map keys, bodies),
by a GUID derived from it, and the example is replayed as it means.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from tests.contract.seeding import GUID

_IN_PATH = re.compile(r"(^|/)subscriptions/([^/?#\s\"{}]+)", re.IGNORECASE)
_AT_START = re.compile(r"^/?subscriptions/([^/?#\s\"{}]+)", re.IGNORECASE)


def placeholder_subscriptions(content: Any) -> dict[str, str]:
    """Each subscription the example's parameters name that is not a GUID -> the GUID standing for it.

    Names come from the ``subscriptionId`` parameter and from parameters that are paths (a
    ``scope``, a ``resourceId``: ``[/]subscriptions/<name>/...``), never from text that merely
    contains ``subscriptions/`` (a type such as ``Microsoft.Resources/subscriptions/resourceGroups``).
    """
    found: dict[str, str] = {}
    for key, value in ((content or {}).get("parameters") or {}).items():
        if not isinstance(value, str):
            continue
        name = value if key == "subscriptionId" else ""
        at_start = _AT_START.match(value)
        name = name or (at_start.group(1) if at_start else "")
        if name and not GUID.match(name) and not name.startswith("{"):
            found.setdefault(name, str(uuid.uuid5(uuid.NAMESPACE_URL, f"subscription:{name}")))
    return found


def with_real_subscriptions(content: Any) -> Any:
    """``content`` with every placeholder subscription replaced by its GUID (unchanged if none)."""
    names = placeholder_subscriptions(content)
    if not names:
        return content

    def fix(text: str) -> str:
        if text in names:
            return names[text]
        return _IN_PATH.sub(lambda m: f"{m.group(1)}subscriptions/{names.get(m.group(2), m.group(2))}", text)

    def walk(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {fix(str(k)): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return fix(node) if isinstance(node, str) else node

    return walk(content)
