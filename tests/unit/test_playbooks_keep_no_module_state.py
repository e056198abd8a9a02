"""Playbook modules keep no state of their own: what they cache lives in the engine's ``ctx.memo``.

The rule, simple and strict: after importing every module of the ``playbooks`` package, no
module-level name may be bound to a mutable builtin container (``list``, ``dict``, ``set``,
``bytearray``, or a subclass of one), whatever its name or whether anything mutates it today.
Constants use the frozen forms instead (``tuple``, ``frozenset``, ``types.MappingProxyType``).
The one exception is dunder names (``__all__``, ``__path__``, ``__builtins__``), which Python
itself owns.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import playbooks

MUTABLE = (list, dict, set, bytearray)


def _modules() -> list[ModuleType]:
    walked = pkgutil.walk_packages(playbooks.__path__, prefix="playbooks.")
    return [playbooks, *(importlib.import_module(info.name) for info in walked)]


def test_no_playbook_module_binds_a_mutable_container() -> None:
    offenders = [
        f"{module.__name__}.{name}: {type(value).__name__}"
        for module in _modules()
        for name, value in vars(module).items()
        if isinstance(value, MUTABLE) and not (name.startswith("__") and name.endswith("__"))
    ]
    assert offenders == []


def test_the_rule_sees_the_modules_it_guards() -> None:
    names = {module.__name__ for module in _modules()}
    assert {"playbooks.maintenance._maintenance_model", "playbooks.policy._policy_rbac"} <= names
