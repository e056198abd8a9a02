"""Per-field before -> after differences of a change, for people (never a Python dict repr)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

ABSENT = "(absent)"
ARROW = "→"


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and (value or not path):
        for key, child in value.items():
            yield from _leaves(child, f"{path}.{key}" if path else str(key))
    else:
        yield path, value


def show(value: Any) -> str:
    """A value as a person reads it: strings bare, the rest as compact JSON."""
    if value is _MISSING:
        return ABSENT
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)


_MISSING = object()


def field_diffs(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(field path, before, after) for each leaf the change sets or that differs.

    >>> field_diffs({"patchMode": "Manual"}, {"patchMode": "AutomaticByPlatform", "bypass": True})
    [('patchMode', 'Manual', 'AutomaticByPlatform'), ('bypass', '(absent)', 'true')]
    """
    old = dict(_leaves(before))
    new = dict(_leaves(after))
    out: list[tuple[str, str, str]] = []
    for path in list(new) + [p for p in old if p not in new]:
        b, a = old.get(path, _MISSING), new.get(path, _MISSING)
        if b != a:
            out.append((path or "(value)", show(b), show(a)))
    return out


def diff_lines(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """One ``field: before → after`` line per changed field (``no field change`` for pure actions)."""
    lines = [f"{path}: {b} {ARROW} {a}" for path, b, a in field_diffs(before, after)]
    return lines or ["no field change"]
