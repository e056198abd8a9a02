"""The built-in playbooks, one module per documented failure (DESIGN.md 3.4).

Importing this package imports every public module in it and in its family folders, and each
module registers its playbook: a new playbook is one module dropped in, nothing else to edit.
Modules whose name starts with ``_`` are a family's shared helpers, imported by the playbooks that
use them. The engine finds this package through the ``remediator.playbooks`` entry point and never
imports it directly.
"""

import importlib
import pkgutil


def _import_all() -> None:
    for module in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if not module.name.rsplit(".", 1)[-1].startswith("_"):
            importlib.import_module(module.name)


_import_all()
