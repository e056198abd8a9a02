"""Turn a jsonschema error into the one-line ``$.a[3].b: message`` the user sees."""

from __future__ import annotations

from typing import Any


def json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def describe(error: Any) -> str:
    """``error`` is a ``jsonschema.ValidationError``; its message is cut to one line."""
    message = str(error.message).splitlines()[0]
    if len(message) > 200:
        message = message[:197] + "..."
    return f"{json_path(error.absolute_path)}: {message}"
