"""Checking a policy playbook's options against its schema before it plans anything.

The config layer does not (yet) validate per-playbook options, and a typo such as
``parallel_deployments: 50`` must stop the run with a clear message rather than reach ARM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from remediator import ConfigError


def check_options(playbook_id: str, schema: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    errors = sorted(Draft202012Validator(dict(schema)).iter_errors(dict(options)), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.path) or "(options)"
        raise ConfigError(f"playbooks.{playbook_id}.{where}: {first.message}")
