"""What more than one playbook family reads: ARM timestamps and policy assignments' basic fields.

The families (``policy``, ``maintenance``, ``extension``) never import one another; what two of
them need lives here, below all three (import-linter's ``layers`` contract in pyproject.toml).
Everything here is pure and reads the `Estate` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remediator import Estate, Resource

POLICY_ASSIGNMENT = "microsoft.authorization/policyassignments"


def time_of(text: object) -> datetime | None:
    """An ARM timestamp (``...Z`` or with an offset), or None."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def assignment_scope(assignment_id: str) -> str:
    """The scope an assignment id sits at (``/subscriptions/S``, an MG id, a resource group)."""
    marker = "/providers/microsoft.authorization/policyassignments/"
    index = assignment_id.lower().find(marker)
    return assignment_id[:index] if index >= 0 else ""


@dataclass(frozen=True)
class PolicyAssignment:
    """A policy assignment's own fields, as ARM returns them (no definitions resolved)."""

    resource: Resource

    @property
    def id(self) -> str:
        return self.resource.id

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def scope(self) -> str:
        given = self.resource.properties.get("scope")
        return str(given) if isinstance(given, str) and given else assignment_scope(self.id)

    @property
    def display_name(self) -> str:
        return str(self.resource.properties.get("displayName") or self.name)

    @property
    def definition_id(self) -> str:
        return str(self.resource.properties.get("policyDefinitionId") or "")

    @property
    def parameters(self) -> Mapping[str, Any]:
        params = self.resource.properties.get("parameters")
        return params if isinstance(params, Mapping) else {}


def policy_assignments(estate: Estate) -> tuple[PolicyAssignment, ...]:
    return tuple(PolicyAssignment(r) for r in sorted(estate.of_type(POLICY_ASSIGNMENT), key=lambda r: r.key))
