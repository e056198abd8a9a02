"""Small adapters from SDK return values to ARM's own JSON values."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any


def enum_text(value: object) -> str:
    """An SDK field that may hold an enum member or its string: ARM's string either way."""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value) if value is not None else ""


def raw_body(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """``cls=`` hook for SDK operations: the response JSON exactly as ARM sent it, not the model.

    Parsed from the text because the older (msrest) clients hand back a legacy transport
    response, which has ``text()`` but no ``json()``.
    """
    text = pipeline_response.http_response.text()
    return json.loads(text) if text else None
