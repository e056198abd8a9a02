"""The action registry: what each ``Change.action`` name does against ARM.

An `Action` is frozen data with two functions and the ARM permissions they need:

* ``read(clients, change)`` returns the live values of exactly the fields ``change.before``
  holds, with the same keys and shapes, so ``fingerprint(read(...)) == change.fingerprint``
  means the change is not stale.
* ``execute(clients, change)`` makes the change, waits (bounded, per ``clients.settings``)
  until ARM holds it, and returns a one-line detail. When ARM refuses it raises
  `remediator.errors.ArmOperationError` with ARM's ``error.code``: wrap SDK calls in
  ``with arm_errors():`` (from `remediator.azure.arm_errors`) and use the rules in
  `remediator.azure.retry` for the conditions worth waiting out.

Adding actions from another module::

    # remediator/azure/policy_actions.py
    from .actions import Action, register_action

    def _read(clients: ArmClients, change: Change) -> Mapping[str, Any]: ...
    def _execute(clients: ArmClients, change: Change) -> str: ...

    CREATE_REMEDIATION = register_action(
        Action(
            "create-remediation",
            _read,
            _execute,
            permissions=("Microsoft.PolicyInsights/remediations/write",),
        )
    )

``remediator/azure/__init__.py`` imports every action module by an explicit list, so importing
`remediator.azure` (which the backend does) registers all of them. Names are global and unique.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..model import Change

if TYPE_CHECKING:
    from .clients import ArmClients

ReadFn = Callable[["ArmClients", Change], Mapping[str, Any]]
ExecuteFn = Callable[["ArmClients", Change], str]


@dataclass(frozen=True)
class Action:
    name: str
    read: ReadFn
    execute: ExecuteFn
    # ARM actions execute needs (reads are covered by Reader); `remediator permissions` unions them.
    permissions: tuple[str, ...] = ()
    description: str = ""


_ACTIONS: dict[str, Action] = {}


def register_action(action: Action) -> Action:
    """Add ``action`` to the registry (idempotent for the same object) and return it."""
    existing = _ACTIONS.get(action.name)
    if existing is not None and existing is not action:
        raise ValueError(f"action {action.name!r} registered twice")
    _ACTIONS[action.name] = action
    return action


def get_action(name: str) -> Action:
    try:
        return _ACTIONS[name]
    except KeyError:
        known = ", ".join(sorted(_ACTIONS)) or "none"
        raise UsageError(f"unknown action {name!r} (known: {known})") from None


def all_actions() -> tuple[Action, ...]:
    return tuple(sorted(_ACTIONS.values(), key=lambda a: a.name))
