"""Which examples the replay leaves out, and why; and the emulator bugs it knows of.

Only features the bot never uses are skipped (DESIGN.md 3.4 lists what the playbooks do: they
read policy states with ``queryResults`` and ``$filter``, and Resource Graph with the KQL subset
the emulator implements). Each rule says why; ``pytest -ra`` prints the reason per example.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from tests.contract.swagger import Example


@dataclass(frozen=True)
class Rule:
    applies: Callable[[Example], bool]
    reason: str


def _operation(*prefixes: str) -> Callable[[Example], bool]:
    return lambda example: example.operation.operation_id.startswith(prefixes)


def _query_parameter(name: str) -> Callable[[Example], bool]:
    return lambda example: name in example.parameters


def _kql(*operators: str) -> Callable[[Example], bool]:
    pattern = re.compile(r"\|\s*(" + "|".join(operators) + r")\b", re.IGNORECASE)

    def applies(example: Example) -> bool:
        query = example.parameters.get("query")
        return isinstance(query, dict) and bool(pattern.search(str(query.get("query", ""))))

    return applies


SKIPS: tuple[Rule, ...] = (
    Rule(
        _operation("PolicyStates_Summarize"),
        "policy-state summarize: the bot reads individual states with queryResults, never summaries",
    ),
    Rule(
        _query_parameter("$apply"),
        "OData $apply aggregation (groupby/aggregate) of policy states: the bot never aggregates, it filters",
    ),
    Rule(
        _operation("PolicyEvents_"),
        "policy events: the bot reads the latest policy states, never the event history",
    ),
    Rule(
        _kql("summarize", "top"),
        "KQL summarize/top: the bot's Resource Graph queries only filter and project rows",
    ),
    Rule(
        lambda example: (
            bool((example.parameters.get("query") or {}).get("facets"))
            if isinstance(example.parameters.get("query"), dict)
            else False
        ),
        "Resource Graph facets: the bot never requests facets",
    ),
    Rule(
        _operation("PublicMaintenanceConfigurations_Get"),
        "public maintenance configurations are Microsoft's platform catalogue, not tenant resources an "
        "estate can seed; the bot schedules only customer-managed (InGuestPatch) configurations",
    ),
)


def skip_reason(example: Example) -> str | None:
    for rule in SKIPS:
        if rule.applies(example):
            return rule.reason
    return None


# Example file name -> the emulator bug that makes its seeded replay fail (xfail strict: fixing the
# bug turns the test red until the entry is removed). Keep this to real, reported emulator bugs.
KNOWN_EMULATOR_BUGS: dict[str, str] = {}
