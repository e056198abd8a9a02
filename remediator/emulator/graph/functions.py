"""KQL scalar semantics: comparisons, string operators, ``in``, and the supported functions.

Missing properties read as null. Against a string, null behaves as the empty string (what
``tostring()`` gives, and what Resource Graph queries rely on), so ``x != 'a'`` holds for a missing
``x`` and ``isempty(x)`` is true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Row = dict[str, Any]
Expr = Callable[[Row], Any]


class KqlError(ValueError):
    """A query outside the supported subset; the message names the construct."""


def member(value: Any, key: str | int) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and isinstance(key, int):
        return value[key] if -len(value) <= key < len(value) else None
    return None


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _equal(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, bool) or isinstance(right, bool):
        return to_string(left).lower() == to_string(right).lower()
    return to_string(left) == to_string(right)


def _order(left: Any, right: Any) -> int:
    if _is_number(left) and _is_number(right):
        return int(left > right) - int(left < right)
    a, b = to_string(left), to_string(right)
    return (a > b) - (a < b)


def comparison(op: str, left: Expr, right: Expr) -> Expr:
    if op == "==":
        return lambda row: _equal(left(row), right(row))
    if op == "!=":
        return lambda row: not _equal(left(row), right(row))
    if op == "=~":
        return lambda row: to_string(left(row)).lower() == to_string(right(row)).lower()
    if op == "!~":
        return lambda row: to_string(left(row)).lower() != to_string(right(row)).lower()
    checks: dict[str, Callable[[int], bool]] = {
        "<": lambda c: c < 0,
        ">": lambda c: c > 0,
        "<=": lambda c: c <= 0,
        ">=": lambda c: c >= 0,
    }
    check = checks[op]
    return lambda row: left(row) is not None and check(_order(left(row), right(row)))


def _has(haystack: str, needle: str) -> bool:
    """KQL ``has``: ``needle`` appears as whole term(s), bounded by non-alphanumerics."""
    if not needle:
        return True
    pattern = r"(?<![0-9A-Za-z])" + re.escape(needle) + r"(?![0-9A-Za-z])"
    return re.search(pattern, haystack) is not None


_STRING_OPS: dict[str, Callable[[str, str], bool]] = {
    "has": _has,
    "contains": lambda h, n: n in h,
    "startswith": lambda h, n: h.startswith(n),
    "endswith": lambda h, n: h.endswith(n),
}


def string_operator(op: str, left: Expr, right: Expr) -> Expr:
    negate = op.startswith("!")
    name = op.lstrip("!")
    case_sensitive = name.endswith("_cs")
    test = _STRING_OPS[name.removesuffix("_cs")]

    def run(row: Row) -> bool:
        haystack, needle = to_string(left(row)), to_string(right(row))
        if not case_sensitive:
            haystack, needle = haystack.lower(), needle.lower()
        return test(haystack, needle) != negate

    return run


def membership(op: str, left: Expr, values: list[Expr]) -> Expr:
    negate = op.startswith("!")
    insensitive = op.endswith("~")
    # A list of literals (the usual case) is evaluated once, not once per row.
    all_literals = all(getattr(value, "kql_constant", False) for value in values)
    constant = [value({}) for value in values] if all_literals else None

    def candidates(row: Row) -> list[Any]:
        return constant if constant is not None else [value(row) for value in values]

    if insensitive:
        lowered = {to_string(v).lower() for v in constant} if constant is not None else None

        def run_insensitive(row: Row) -> bool:
            pool = lowered if lowered is not None else {to_string(v).lower() for v in candidates(row)}
            return (to_string(left(row)).lower() in pool) != negate

        return run_insensitive

    def run(row: Row) -> bool:
        value = left(row)
        return any(_equal(value, candidate) for candidate in candidates(row)) != negate

    return run


def _isempty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _unary(name: str, fn: Callable[[Any], Any]) -> Callable[[list[Expr]], Expr]:
    def build(args: list[Expr]) -> Expr:
        if len(args) != 1:
            raise KqlError(f"function '{name}' takes one argument, got {len(args)}")
        (arg,) = args
        return lambda row: fn(arg(row))

    return build


def _strcat(args: list[Expr]) -> Expr:
    return lambda row: "".join(to_string(arg(row)) for arg in args)


def _iff(args: list[Expr]) -> Expr:
    if len(args) != 3:
        raise KqlError(f"function 'iff' takes three arguments, got {len(args)}")
    test, then, otherwise = args
    return lambda row: then(row) if truthy(test(row)) else otherwise(row)


def _coalesce(args: list[Expr]) -> Expr:
    def run(row: Row) -> Any:
        for arg in args:
            value = arg(row)
            if not _isempty(value):
                return value
        return None

    return run


FUNCTIONS: dict[str, Callable[[list[Expr]], Expr]] = {
    "tolower": _unary("tolower", lambda v: to_string(v).lower()),
    "toupper": _unary("toupper", lambda v: to_string(v).upper()),
    "tostring": _unary("tostring", to_string),
    "isempty": _unary("isempty", _isempty),
    "isnotempty": _unary("isnotempty", lambda v: not _isempty(v)),
    "isnull": _unary("isnull", lambda v: v is None),
    "isnotnull": _unary("isnotnull", lambda v: v is not None),
    "not": _unary("not", lambda v: not truthy(v)),
    "strcat": _strcat,
    "iff": _iff,
    "iif": _iff,
    "coalesce": _coalesce,
}


def call(name: str, args: list[Expr]) -> Expr:
    builder = FUNCTIONS.get(name)
    if builder is None:
        raise KqlError(f"unsupported KQL function '{name}'; supported: {', '.join(sorted(FUNCTIONS))}")
    return builder(args)
