"""Which examples the replay leaves out, and why; and the emulator bugs it knows of.

Only features the bot never uses are skipped (DESIGN.md 3.4 lists what the playbooks do: they
read policy states with ``queryResults`` and ``$filter``, and Resource Graph with the KQL subset
the emulator implements). Each rule says why; ``pytest -ra`` prints the reason per example. The
same rules are applied to the bot's recorded traffic (test_traffic.py), so "the bot never uses
it" is checked, not just claimed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.contract.swagger import Example


@dataclass(frozen=True)
class Rule:
    """A feature: operations (operationId prefixes), a query parameter, KQL operators or facets."""

    reason: str
    operations: tuple[str, ...] = ()
    query_parameter: str = ""
    kql_operators: tuple[str, ...] = ()
    facets: bool = False

    def applies(self, operation_id: str, query: Mapping[str, Any], body: Any) -> bool:
        if self.operations and operation_id.startswith(self.operations):
            return True
        if self.query_parameter and self.query_parameter.lower() in {str(k).lower() for k in query}:
            return True
        if not isinstance(body, Mapping):
            return False
        if self.kql_operators:
            pattern = r"\|\s*(" + "|".join(self.kql_operators) + r")\b"
            if re.search(pattern, str(body.get("query", "")), re.IGNORECASE):
                return True
        return self.facets and bool(body.get("facets"))


SKIPS: tuple[Rule, ...] = (
    Rule(
        "policy-state summarize: the bot reads individual states with queryResults, never summaries",
        operations=("PolicyStates_Summarize",),
    ),
    Rule(
        "OData $apply aggregation (groupby/aggregate) of policy states: the bot never aggregates, it filters",
        query_parameter="$apply",
    ),
    Rule(
        "policy events: the bot reads the latest policy states, never the event history",
        operations=("PolicyEvents_",),
    ),
    Rule(
        "KQL summarize/top: the bot's Resource Graph queries only filter and project rows",
        kql_operators=("summarize", "top"),
    ),
    Rule("Resource Graph facets: the bot never requests facets", facets=True),
    Rule(
        "public maintenance configurations are Microsoft's platform catalogue, not tenant resources an "
        "estate can seed; the bot schedules only customer-managed (InGuestPatch) configurations",
        operations=("PublicMaintenanceConfigurations_Get",),
    ),
)


NEXT_LINK = (
    "a {nextLink} template: its path is a link the service issued (opaque, absolute, to another host), "
    "which no emulator can be seeded to answer; next pages are replayed by following the emulator's own "
    "link from a first page ($skipToken examples)"
)


def _is_next_link(example: Example) -> bool:
    """An operation whose whole path is one parameter holding a next-page URL (``{nextLink}``)."""
    whole = re.fullmatch(r"/?\{([^}/]+)\}", example.operation.template.split("?")[0])
    if whole is None:
        return False
    value = example.parameters.get(whole.group(1))
    return whole.group(1).lower() == "nextlink" or (isinstance(value, str) and "://" in value)


def skip_reason(example: Example) -> str | None:
    """Why the example is not replayed: a next-page link, or a feature the bot never uses."""
    if _is_next_link(example):
        return NEXT_LINK
    body_names = [str(p["name"]) for p in example.operation.parameter("body")]
    body = example.parameters.get(body_names[0]) if body_names else None
    return used_feature(example.operation.operation_id, example.parameters, body)


def used_feature(operation_id: str, query: Mapping[str, Any], body: Any) -> str | None:
    """The reason of the first skip rule a request falls under, or None."""
    for rule in SKIPS:
        if rule.applies(operation_id, query, body):
            return rule.reason
    return None


# Example file name -> the emulator bug that makes its seeded replay fail (xfail strict: fixing the
# bug turns the test red until the entry is removed). Keep this to real, reported emulator bugs.
KNOWN_EMULATOR_BUGS: dict[str, str] = {}
