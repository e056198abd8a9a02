"""Reading files a user (or an attacker who can write one) hands the bot: bounded in size and depth.

Every reader of a settings, plan or estate file goes through here, so a 5 GB YAML alias bomb, a
JSON document nested 100,000 deep or a file the size of a disk ends in one line naming the file
and the problem, before anything is applied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

# Far above any real file (a plan of 100,000 changes is about 100 MB; settings are a few KB).
MAX_SETTINGS_BYTES = 1 << 20
MAX_PLAN_BYTES = 256 << 20
MAX_ESTATE_BYTES = 1 << 30


_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|2e)", re.IGNORECASE)


def id_problem(resource_id: str) -> str | None:
    """Why ``resource_id`` is not a normalized ARM id, or None.

    ``%2F`` would let a name smuggle a path into the URL the SDK builds; ``..`` would climb above
    the scope the run was given; ARM itself never returns either.
    """
    if not resource_id.startswith("/"):
        return "not an absolute ARM id"
    if any(ch in resource_id for ch in "\\?#"):
        return "holds a backslash, '?' or '#'"
    if _ENCODED_SEPARATOR.search(resource_id):
        return "holds a percent-encoded '/', '\\' or '.'"
    segments = resource_id.rstrip("/").split("/")[1:]
    if any(seg in ("", ".", "..") for seg in segments):
        return "holds an empty, '.' or '..' segment"
    return None


class InputError(ValueError):
    """A file that cannot be read safely; the message is one line."""


def read_text(path: Path, limit: int, what: str) -> str:
    """The file's text, refusing one larger than ``limit`` bytes (checked before reading it)."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise InputError(f"{what} {path}: {size} bytes is more than the {limit} allowed")
        with path.open("rb") as handle:  # a FIFO or a growing file: read at most limit + 1 bytes
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(f"{what} {path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(f"{what} {path}: more than the {limit} bytes allowed")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{what} {path}: not UTF-8 text: {exc.reason} at byte {exc.start}") from None


def load_json(text: str, what: str) -> Any:
    """``json.loads``, with nesting too deep for the parser reported as bad input, not a crash."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{what}: JSON nested too deeply") from None


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases: a settings file never needs them, and
    they are how a few hundred bytes expand to gigabytes ("billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in a settings file", event.start_mark
            )
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """Safe YAML without aliases; raises ``yaml.YAMLError`` (or `InputError` when nested too deeply)."""
    try:
        # _NoAliasLoader is a SafeLoader subclass: bandit's B506 only knows SafeLoader by name.
        return yaml.load(text, Loader=_NoAliasLoader)  # nosec B506
    except RecursionError:
        raise InputError("YAML nested too deeply") from None
