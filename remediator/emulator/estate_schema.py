"""Reading and validating an estate file (DESIGN.md 3.3): JSON Schema, then semantic checks.

Every problem is reported as one line naming the file and the JSON path of the first problem,
e.g. ``estate demo.json: $.resources[3].id: 'vm1' is not an ARM resource id``.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from remediator.emulator.store import is_resource_id, resource_type_of, split_id, subscription_of
from remediator.errors import UsageError
from remediator.safe_input import MAX_ESTATE_BYTES, InputError, read_text


def _optional(module: str) -> Any:
    """An optional dependency, or None (imported by name so type checking does not need it)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


# An optional speed-up for 100,000-machine estates; jsonschema alone gives the same verdicts.
fastjsonschema = _optional("fastjsonschema")

BUNDLED_PACKAGE = "remediator.emulator"
MANAGEMENT_GROUP_TYPE = "microsoft.management/managementgroups"


class EstateError(UsageError):
    """A missing, unreadable or malformed estate; the message is one line for the user."""


@cache
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        resources.files(BUNDLED_PACKAGE).joinpath("estate.schema.json").read_text("utf-8")
    )
    return schema


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(_schema())
    return Draft202012Validator(_schema())


@cache
def _fast_check() -> Callable[[Any], Any] | None:
    """The same schema compiled to Python (draft-07 subset: the schema uses nothing newer).

    A 100,000-machine estate validates in about a second instead of twenty; only when it finds
    a problem does ``jsonschema`` run, for its message and JSON path.
    """
    if fastjsonschema is None:
        return None
    draft07 = {key: value for key, value in _schema().items() if key not in ("$schema", "$id")}
    check: Callable[[Any], Any] = fastjsonschema.compile(draft07)
    return check


def bundled_estates() -> list[str]:
    folder = resources.files(BUNDLED_PACKAGE).joinpath("estates")
    return sorted(entry.name.removesuffix(".json") for entry in folder.iterdir() if entry.name.endswith(".json"))


def read_estate(source: str | Path | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(label for messages, parsed estate) from a bundled NAME, a file path, or a dict."""
    if isinstance(source, Mapping):
        return "<dict>", json.loads(json.dumps(source))  # a private deep copy, JSON types only
    text_source = str(source)
    bundled = resources.files(BUNDLED_PACKAGE).joinpath("estates", f"{text_source}.json")
    is_name = "/" not in text_source and "\\" not in text_source and not text_source.endswith(".json")
    if is_name and bundled.is_file():
        label, raw = f"{text_source}.json", bundled.read_text(encoding="utf-8")
    else:
        path = Path(text_source)
        label = path.name or text_source
        if is_name and not path.exists():
            raise EstateError(
                f"estate {text_source}: no such file and no bundled estate of that name "
                f"(bundled: {', '.join(bundled_estates())})"
            )
        try:
            raw = read_text(path, MAX_ESTATE_BYTES, "estate")
        except InputError as error:
            raise EstateError(str(error)) from None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise EstateError(
            f"estate {label}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise EstateError(f"estate {label}: JSON nested too deeply") from None
    return label, parsed


def validate_estate(label: str, estate: Any) -> None:
    """Raise :class:`EstateError` for the first schema or semantic problem."""
    fast = _fast_check()
    errors = []
    if fast is None:
        errors = list(_validator().iter_errors(estate))
    else:
        try:
            fast(estate)
        except fastjsonschema.JsonSchemaException:
            errors = list(_validator().iter_errors(estate))
    if errors:
        first = min(errors, key=lambda e: [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in e.path])
        message = first.message.replace("\n", " ")
        if len(message) > 200:
            message = message[:197] + "..."
        raise EstateError(f"estate {label}: {first.json_path}: {message}")
    problem = _semantic_problem(estate)
    if problem:
        raise EstateError(f"estate {label}: {problem[0]}: {problem[1]}")


def _semantic_problem(estate: dict[str, Any]) -> tuple[str, str] | None:
    now = estate.get("now")
    if now is not None:
        try:
            datetime.fromisoformat(str(now).replace("Z", "+00:00"))
        except ValueError:
            return "$.now", f"'{now}' is not an ISO 8601 date-time"
    subscriptions: dict[str, int] = {}
    for index, subscription in enumerate(estate["subscriptions"]):
        key = subscription["subscriptionId"].lower()
        if key in subscriptions:
            return (
                f"$.subscriptions[{index}].subscriptionId",
                f"duplicate subscription '{subscription['subscriptionId']}' "
                f"(also at $.subscriptions[{subscriptions[key]}])",
            )
        subscriptions[key] = index
    seen: dict[str, int] = {}
    for index, resource in enumerate(estate.get("resources") or []):
        problem = _resource_problem(resource, subscriptions, seen, index)
        if problem:
            return problem
    for index, record in enumerate(estate.get("policyStates") or []):
        for field in ("resourceId", "policyAssignmentId", "policyDefinitionId"):
            if not is_resource_id(record[field]):
                return f"$.policyStates[{index}].{field}", f"'{record[field]}' is not an ARM resource id"
    return None


def _resource_problem(
    resource: dict[str, Any], subscriptions: dict[str, int], seen: dict[str, int], index: int
) -> tuple[str, str] | None:
    path = f"$.resources[{index}]"
    resource_id = resource["id"]
    if not is_resource_id(resource_id):
        return f"{path}.id", f"'{resource_id}' is not an ARM resource id"
    key = resource_id.lower()
    if key in seen:
        return f"{path}.id", f"duplicate resource id '{resource_id}' (also at $.resources[{seen[key]}])"
    seen[key] = index
    subscription_id = subscription_of(resource_id)
    if subscription_id and subscription_id.lower() not in subscriptions:
        return f"{path}.id", f"subscription '{subscription_id}' is not listed in $.subscriptions"
    declared = resource.get("type")
    derived = resource_type_of(resource_id)
    if declared and derived and declared.lower() != derived.lower():
        return f"{path}.type", f"'{declared}' does not match the type of its id ('{derived}')"
    if derived.lower() == MANAGEMENT_GROUP_TYPE:
        children = ((resource.get("properties") or {}).get("children")) or []
        return _children_problem(children, subscriptions, f"{path}.properties.children")
    return None


def _children_problem(children: list[Any], subscriptions: dict[str, int], path: str) -> tuple[str, str] | None:
    for index, child in enumerate(children):
        here = f"{path}[{index}]"
        if not isinstance(child, dict) or not isinstance(child.get("id"), str):
            return here, "a management group child needs an 'id'"
        parts = split_id(child["id"])
        if len(parts) == 2 and parts[0].lower() == "subscriptions":
            if parts[1].lower() not in subscriptions:
                return f"{here}.id", f"subscription '{parts[1]}' is not listed in $.subscriptions"
        elif resource_type_of(child["id"]).lower() != MANAGEMENT_GROUP_TYPE:
            return f"{here}.id", f"'{child['id']}' is neither a subscription nor a management group"
        nested = child.get("children") or []
        problem = _children_problem(nested, subscriptions, f"{here}.children")
        if problem:
            return problem
    return None


def load_estate(source: str | Path | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Read and validate; return (label, estate)."""
    label, estate = read_estate(source)
    validate_estate(label, estate)
    return label, estate
