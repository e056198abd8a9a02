"""KQL tabular operators over lists of row dicts. Stages never mutate their input rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from remediator.emulator.graph.functions import KqlError, Row, to_string, truthy

Expr = Callable[[Row], Any]
# tables(name, type hint): the hint (lowercase types, or None) lets a table skip rows the first
# `where` would drop anyway; the `where` still runs.
Tables = Callable[[str, frozenset[str] | None], list[Row]]
Stage = Callable[[list[Row], Tables], list[Row]]


@dataclass
class Pipeline:
    """A source table (None for a ``union`` source) followed by stages."""

    table: str | None
    stages: list[Stage] = field(default_factory=list)

    def run(self, tables: Tables) -> list[Row]:
        hint = getattr(self.stages[0], "type_filter", None) if self.stages else None
        rows = tables(self.table, hint) if self.table is not None else []
        for stage in self.stages:
            rows = stage(rows, tables)
        return rows


def where(predicate: Expr) -> Stage:
    def run(rows: list[Row], tables: Tables) -> list[Row]:
        return [row for row in rows if truthy(predicate(row))]

    run.type_filter = getattr(predicate, "type_filter", None)  # type: ignore[attr-defined]
    return run


def project(columns: list[tuple[str, Expr]]) -> Stage:
    names = [name for name, _ in columns]
    if len(set(names)) != len(names):
        raise KqlError(f"'project' names a column twice: {', '.join(names)}")

    def run(rows: list[Row], tables: Tables) -> list[Row]:
        return [{name: expr(row) for name, expr in columns} for row in rows]

    return run


def project_away(names: list[str]) -> Stage:
    dropped = set(names)

    def run(rows: list[Row], tables: Tables) -> list[Row]:
        return [{k: v for k, v in row.items() if k not in dropped} for row in rows]

    return run


def extend(assignments: list[tuple[str, Expr]]) -> Stage:
    def run(rows: list[Row], tables: Tables) -> list[Row]:
        out = []
        for row in rows:
            new = dict(row)
            for name, expr in assignments:
                new[name] = expr(new)
            out.append(new)
        return out

    return run


def limit(count: int) -> Stage:
    def run(rows: list[Row], tables: Tables) -> list[Row]:
        return rows[:count]

    return run


def _sort_key(value: Any) -> tuple[int, Any]:
    """Nulls first, then numbers, then everything else as text (a total order over mixed types)."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (1, value)
    return (2, to_string(value))


def order_by(keys: list[tuple[Expr, bool]]) -> Stage:
    def run(rows: list[Row], tables: Tables) -> list[Row]:
        out = list(rows)
        # Stable sorts from the last key to the first give a lexicographic multi-key order.
        for expr, descending in reversed(keys):
            out.sort(key=lambda row, e=expr: _sort_key(e(row)), reverse=descending)  # type: ignore[misc]
        return out

    return run


def union_stage(parts: list[Pipeline], *, keep_input: bool = False) -> Stage:
    def run(rows: list[Row], tables: Tables) -> list[Row]:
        out = list(rows) if keep_input else []
        for part in parts:
            out.extend(part.run(tables))
        return out

    return run
