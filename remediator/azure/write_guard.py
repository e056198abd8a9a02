"""Checks every write passes right before it is sent, whatever the plan file or a playbook said.

The planner already keeps to these rules; they are enforced again here, where the SDK call is
made, so an edited plan, a playbook bug or a hostile estate cannot widen what the bot does:

* ids are normalized: absolute, no empty, ``.`` or ``..`` segment, no percent-encoded or
  backslash separators, no query or fragment (``%2F`` would let a name smuggle a path into the
  URL the SDK builds; ``..`` would climb above the scope the run was given);
* nothing above the run's scope: anything in a subscription the inventory resolved or under the
  configured management group; elsewhere only at a resource group or below (a gallery image in a
  shared subscription that a policy identity must read, a machine moved out of the run's
  subscriptions), never a whole other subscription, management group or the tenant;
* never a role that can grant roles: Owner, User Access Administrator, Role Based Access Control
  Administrator (built-in ids, learn.microsoft.com/azure/role-based-access-control/built-in-roles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ArmOperationError
from ..model import Change
from ..safe_input import id_problem

FORBIDDEN_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "18d7d88d-d35e-4fb7-a5e8-5773ddee246b": "User Access Administrator",
    "f58310d9-a9f6-439a-9e8d-f62e7b41a168": "Role Based Access Control Administrator",
}
REFUSED = "WriteRefused"


@dataclass(frozen=True)
class WriteScope:
    """Where writes may land (see the module docstring)."""

    subscriptions: frozenset[str]
    management_group: str | None = None

    def covers(self, resource_id: str) -> bool:
        parts = resource_id.lower().split("/")
        if len(parts) > 2 and parts[1] == "subscriptions":
            in_group = len(parts) > 4 and parts[3] == "resourcegroups"
            return parts[2] in self.subscriptions or in_group
        group = (self.management_group or "").lower()
        prefix = f"/providers/microsoft.management/managementgroups/{group}"
        return bool(group) and (resource_id.lower() == prefix or resource_id.lower().startswith(prefix + "/"))


def _ids_in(params: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for key, value in params.items():
        if isinstance(value, str) and value.startswith("/"):
            yield key, value


def check_write(change: Change, scope: WriteScope | None) -> None:
    """Raise `ArmOperationError` (code ``WriteRefused``) unless ``change`` keeps to the rules above."""
    for where, rid in (("resource_id", change.resource_id), *_ids_in(change.params)):
        problem = id_problem(rid)
        if problem:
            raise ArmOperationError(REFUSED, f"{where} {rid!r} {problem}")
        if scope is not None and where in ("resource_id", "scope") and not scope.covers(rid):
            raise ArmOperationError(REFUSED, f"{where} {rid!r} is above the run's scope")
    role = change.params.get("role_definition_id") or change.after.get("roleDefinitionId")
    if isinstance(role, str):
        name = FORBIDDEN_ROLES.get(role.rstrip("/").rsplit("/", 1)[-1].lower())
        if name:
            raise ArmOperationError(REFUSED, f"the bot never grants {name}")
