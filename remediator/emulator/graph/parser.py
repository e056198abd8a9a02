"""Parse a KQL query (the subset in ``kql.lark``) into a compiled pipeline.

Expressions compile to closures ``row -> value`` once per query, so evaluating 100,000 rows does
not walk a tree per row. Anything the grammar or the function table does not know raises
:class:`KqlError` whose message names the construct (Resource Graph answers it with a 400).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.exceptions import VisitError

from remediator.emulator.graph import functions
from remediator.emulator.graph.functions import KqlError, Row
from remediator.emulator.graph.operators import (
    Expr,
    Pipeline,
    Stage,
    Tables,
    extend,
    limit,
    order_by,
    project,
    project_away,
    union_stage,
    where,
)

# Operator keywords that are real KQL but outside the subset, for a clearer error message.
_TOKEN_NAMES = {
    "WHERE": "where",
    "PROJECT": "project",
    "EXTEND": "extend",
    "LIMIT": "limit",
    "TAKE": "take",
    "ORDER": "order by",
    "SORT": "sort by",
    "UNION": "union",
    "__ANON_0": "project-away",
}


@cache
def _grammar() -> Lark:
    text = resources.files("remediator.emulator.graph").joinpath("kql.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", maybe_placeholders=False)


def _unquote(token: str) -> str:
    if token.startswith("@"):
        return token[2:-1]
    body = token[1:-1]
    return body.encode("utf-8").decode("unicode_escape") if "\\" in body else body


def _constant(value: Any) -> Expr:
    expr: Expr = lambda row: value  # noqa: E731 — closures are the compiled form
    expr.kql_constant = True  # type: ignore[attr-defined]
    return expr


def _is_type_column(expr: Expr) -> bool:
    return getattr(expr, "kql_name", None) == "type" and getattr(expr, "kql_column", False)


def _type_filter(expr: Expr) -> frozenset[str] | None:
    found: frozenset[str] | None = getattr(expr, "type_filter", None)
    return found


def _with_type_filter(expr: Expr, types: frozenset[str] | None) -> Expr:
    """Mark a predicate that only rows of ``types`` can satisfy (a hint for the table scan)."""
    if types is not None:
        expr.type_filter = types  # type: ignore[attr-defined]
    return expr


class _Compile(Transformer[Token, Any]):
    """Tree -> closures (expressions) and stages (operators)."""

    # --- literals and references ---------------------------------------------------------

    def string(self, items: list[Token]) -> Expr:
        return _constant(_unquote(str(items[0])))

    def number(self, items: list[Token]) -> Expr:
        text = str(items[0])
        return _constant(float(text) if "." in text else int(text))

    def true(self, items: list[Token]) -> Expr:
        return _constant(True)

    def false(self, items: list[Token]) -> Expr:
        return _constant(False)

    def column_ref(self, items: list[Token]) -> Expr:
        name = str(items[0])
        expr: Expr = lambda row: row.get(name)  # noqa: E731 — a closure per column is the point
        expr.kql_name = name  # type: ignore[attr-defined]
        expr.kql_column = True  # type: ignore[attr-defined]
        return expr

    def member(self, items: list[Any]) -> Expr:
        inner: Expr = items[0]
        name = str(items[1])
        expr: Expr = lambda row: functions.member(inner(row), name)  # noqa: E731
        base = getattr(inner, "kql_name", None)
        expr.kql_name = f"{base}_{name}" if base else name  # type: ignore[attr-defined]
        return expr

    def index(self, items: list[Any]) -> Expr:
        inner: Expr = items[0]
        token = items[1]
        key: str | int = _unquote(str(token)) if token.type == "STRING" else int(str(token))
        expr: Expr = lambda row: functions.member(inner(row), key)  # noqa: E731
        base = getattr(inner, "kql_name", None)
        expr.kql_name = f"{base}_{key}" if base else str(key)  # type: ignore[attr-defined]
        return expr

    def call(self, items: list[Any]) -> Expr:
        name = str(items[0])
        args: list[Expr] = items[1] if len(items) > 1 and items[1] is not None else []
        return functions.call(name, args)

    def expr_list(self, items: list[Expr]) -> list[Expr]:
        return list(items)

    # --- boolean and comparison ------------------------------------------------------------

    def or_(self, items: list[Expr]) -> Expr:
        left, right = items
        expr: Expr = lambda row: functions.truthy(left(row)) or functions.truthy(right(row))  # noqa: E731
        a, b = _type_filter(left), _type_filter(right)
        return _with_type_filter(expr, a | b if a is not None and b is not None else None)

    def and_(self, items: list[Expr]) -> Expr:
        left, right = items
        expr: Expr = lambda row: functions.truthy(left(row)) and functions.truthy(right(row))  # noqa: E731
        a, b = _type_filter(left), _type_filter(right)
        return _with_type_filter(expr, a & b if a is not None and b is not None else a if a is not None else b)

    def compare(self, items: list[Any]) -> Expr:
        left, op, right = items
        expr = functions.comparison(str(op), left, right)
        if str(op) in ("==", "=~") and _is_type_column(left) and getattr(right, "kql_constant", False):
            return _with_type_filter(expr, frozenset({str(right({})).lower()}))
        return expr

    def string_op(self, items: list[Any]) -> Expr:
        left, op, right = items
        return functions.string_operator(str(op), left, right)

    def in_list(self, items: list[Any]) -> Expr:
        left, op, values = items
        expr = functions.membership(str(op), left, values)
        if (
            str(op) in ("in", "in~")
            and _is_type_column(left)
            and all(getattr(v, "kql_constant", False) for v in values)
        ):
            return _with_type_filter(expr, frozenset(str(v({})).lower() for v in values))
        return expr

    # --- operators ---------------------------------------------------------------------------

    def where_op(self, items: list[Expr]) -> Stage:
        return where(items[0])

    def named_column(self, items: list[Any]) -> tuple[str, Expr]:
        return str(items[0]), items[1]

    def plain_column(self, items: list[Any]) -> tuple[str, Expr]:
        expr: Expr = items[0]
        name = getattr(expr, "kql_name", None)
        if name is None:
            raise KqlError("a computed 'project' column needs a name: use 'project name = expression'")
        return str(name), expr

    def project_op(self, items: list[tuple[str, Expr]]) -> Stage:
        return project(items)

    def project_away_op(self, items: list[Token]) -> Stage:
        return project_away([str(item) for item in items])

    def assignment(self, items: list[Any]) -> tuple[str, Expr]:
        return str(items[0]), items[1]

    def extend_op(self, items: list[tuple[str, Expr]]) -> Stage:
        return extend(items)

    def limit_op(self, items: list[Token]) -> Stage:
        return limit(int(str(items[0])))

    def order_key(self, items: list[Any]) -> tuple[Expr, bool]:
        descending = len(items) < 2 or str(items[1]) == "desc"  # KQL sorts descending by default
        return items[0], descending

    def order_op(self, items: list[tuple[Expr, bool]]) -> Stage:
        return order_by(items)

    def union_option(self, items: list[Token]) -> None:
        return None

    def union_options(self, items: list[None]) -> None:
        return None

    def table(self, items: list[Token]) -> Pipeline:
        name = str(items[0])
        return Pipeline(table=name, stages=[])

    def union_source(self, items: list[Any]) -> Pipeline:
        parts: list[Pipeline] = [item for item in items if isinstance(item, Pipeline)]
        return Pipeline(table=None, stages=[union_stage(parts)])

    def union_op(self, items: list[Any]) -> Stage:
        return union_stage([item for item in items if isinstance(item, Pipeline)], keep_input=True)

    def pipeline(self, items: list[Any]) -> Pipeline:
        source: Pipeline = items[0]
        return Pipeline(table=source.table, stages=[*source.stages, *items[1:]])

    def start(self, items: list[Pipeline]) -> Pipeline:
        return items[0]


def compile_query(query: str) -> Pipeline:
    """Parse and compile; raise :class:`KqlError` naming the first unsupported construct."""
    try:
        tree = _grammar().parse(query)
    except UnexpectedToken as error:
        raise KqlError(_describe_token(error)) from None
    except UnexpectedCharacters as error:
        raise KqlError(
            f"unsupported KQL at line {error.line}, column {error.column}: unexpected character {error.char!r}"
        ) from None
    except UnexpectedInput as error:
        raise KqlError(f"unsupported KQL: {error}") from None
    try:
        pipeline: Pipeline = _Compile().transform(tree)
    except VisitError as error:  # lark wraps what a transformer method raised
        if isinstance(error.orig_exc, KqlError):
            raise error.orig_exc from None
        raise
    return pipeline


def _describe_token(error: UnexpectedToken) -> str:
    token = error.token
    where = f"at line {token.line}, column {token.column}"
    if token.type == "$END":
        return f"unsupported KQL: the query ends too early ({where})"
    previous = getattr(error, "token_history", None) or []
    after_pipe = bool(previous) and str(previous[-1]) == "|"
    if after_pipe:
        return f"unsupported KQL operator '{token}' {where}; supported: " + ", ".join(
            sorted(set(_TOKEN_NAMES.values()))
        )
    return f"unsupported KQL construct '{token}' {where}"


def evaluate(pipeline: Pipeline, tables: Tables) -> list[Row]:
    """Run a compiled pipeline against ``tables(name, type hint) -> rows``."""
    return pipeline.run(tables)
