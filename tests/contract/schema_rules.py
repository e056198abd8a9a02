"""Swagger 2.0 schema checks: jsonschema's Draft 4 validator plus the rules swagger adds.

The rules follow Microsoft's own example validator (oav, `Azure/oav`), so what fails here is
what Microsoft's tooling would flag:

* ``type: object`` with no ``properties``, ``additionalProperties`` or ``allOf`` is autorest's
  "any" (Resource Graph's ``data``, a policy expression's value), so it admits any JSON value;
* ``x-nullable: true`` admits null; a property that is not ``required`` admits null unless it
  says ``x-nullable: false`` (oav's default);
* ``format: date-time`` and ``format: uuid`` are checked;
* a property no schema in the ``allOf`` chain declares is an error (oav's
  ``OBJECT_ADDITIONAL_PROPERTIES``) unless the schema declares ``additionalProperties``, is
  polymorphic (``discriminator``) or is a free-form object. Unknown properties that Microsoft's
  own example has at the same place are tolerated (``tolerated``), so an example that is
  ahead of its swagger does not fail the emulator that echoes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators

if TYPE_CHECKING:
    from tests.contract.swagger import Resolver

FORMATS = FormatChecker(formats=())
_DRAFT4_PROPERTIES = Draft4Validator.VALIDATORS["properties"]


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value.upper():
        raise ValueError(f"{value!r} has no time part")
    datetime.fromisoformat(value.replace("z", "Z"))
    return True


def _is_uuid(value: object) -> bool:
    if isinstance(value, str):
        uuid.UUID(value)
    return True


FORMATS.checks("date-time", raises=ValueError)(_is_date_time)
FORMATS.checks("uuid", raises=ValueError)(_is_uuid)


def _type(validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if instance is None and schema.get("x-nullable") is True:
        return
    if types == "object" and not any(k in schema for k in ("properties", "additionalProperties", "allOf")):
        return
    listed = types if isinstance(types, list) else [types]
    if not any(validator.is_type(instance, kind) for kind in listed if kind != "file"):
        yield ValidationError(f"{instance!r:.80} is not of type {types!r}")


def _properties(
    validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    required = set(schema.get("required") or [])
    checked = {
        name: sub
        for name, sub in properties.items()
        if not (
            name in instance
            and instance[name] is None
            and (sub.get("x-nullable") is True or (name not in required and sub.get("x-nullable") is not False))
        )
    }
    yield from _DRAFT4_PROPERTIES(validator, checked, instance, schema)


SwaggerValidator = validators.extend(Draft4Validator, {"type": _type, "properties": _properties})


def schema_errors(resolver: Resolver, schema_uri: str, instance: Any, tolerated: frozenset[str]) -> list[str]:
    """Every way ``instance`` breaks the schema at ``schema_uri`` (a ``file:///...#/pointer``)."""
    validator = SwaggerValidator({"$ref": schema_uri}, registry=resolver.registry, format_checker=FORMATS)
    errors = [
        f"{error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda e: e.json_path)
    ]
    unknown = unknown_properties(resolver, schema_uri, instance) - tolerated
    return errors + [f"{path}: property not in the swagger" for path in sorted(unknown)]


def unknown_properties(resolver: Resolver, schema_uri: str, instance: Any) -> frozenset[str]:
    """Where ``instance`` has properties its schema does not declare (``$.a.b[].c`` paths)."""
    found: set[str] = set()
    _walk(resolver, schema_uri, instance, "$", found)
    return frozenset(found)


def _declared(resolver: Resolver, uri: str) -> tuple[dict[str, str], str | None, bool]:
    """(property -> schema URI, additionalProperties schema URI, open) over the ``allOf`` chain."""
    node, uri = resolver.follow(uri)
    if not isinstance(node, Mapping):
        return {}, None, True
    declared = {name: f"{uri}/properties/{_escape(name)}" for name in node.get("properties") or {}}
    additional = node.get("additionalProperties")
    extra_uri = f"{uri}/additionalProperties" if isinstance(additional, Mapping) else None
    is_open = additional is True or "discriminator" in node or "x-ms-discriminator-value" in node
    for index, _ in enumerate(node.get("allOf") or []):
        inner, inner_extra, inner_open = _declared(resolver, f"{uri}/allOf/{index}")
        declared = {**inner, **declared}
        extra_uri = extra_uri or inner_extra
        is_open = is_open or inner_open
    if not declared and extra_uri is None and not node.get("allOf"):
        is_open = True  # a free-form object ({"type": "object"})
    return declared, extra_uri, is_open


def _walk(resolver: Resolver, uri: str, instance: Any, path: str, found: set[str]) -> None:
    if isinstance(instance, Mapping):
        declared, extra_uri, is_open = _declared(resolver, uri)
        for name, value in instance.items():
            if name in declared:
                _walk(resolver, declared[name], value, f"{path}.{name}", found)
            elif extra_uri is not None:
                _walk(resolver, extra_uri, value, f"{path}.*", found)
            elif not is_open:
                found.add(f"{path}.{name}")
    elif isinstance(instance, list):
        node, where = resolver.follow(uri)
        if isinstance(node, Mapping) and isinstance(node.get("items"), Mapping):
            for item in instance:
                _walk(resolver, f"{where}/items", item, f"{path}[]", found)


def _escape(name: str) -> str:
    from urllib.parse import quote

    return quote(name.replace("~", "~0").replace("/", "~1"), safe="~")
