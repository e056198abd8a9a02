"""Settings file + environment + flags -> one frozen `Settings`.

Precedence: a flag beats an environment variable, which beats the settings file, which beats the
defaults. Everything is validated here, so the rest of the code can trust what it gets; a bad
value is a `ConfigError` naming the file (or variable) and the JSON path.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .errors import ConfigError, UsageError
from .jsonpath import describe
from .model import Scope
from .playbook import Playbook, Registry
from .report.doclinks import DEFAULT_LOCALE, validate_locale
from .safe_input import MAX_SETTINGS_BYTES, InputError, id_problem, load_yaml, read_text

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SCOPE_VARIABLES = ("REMEDIATOR_SUBSCRIPTIONS", "REMEDIATOR_MANAGEMENT_GROUP")
MANAGEMENT_GROUP = re.compile(r"^[A-Za-z0-9_().-]{1,90}$")

MIN_NOW_YEAR, MAX_NOW_YEAR = 2000, 2200

ENV_ARM_ENDPOINT = "REMEDIATOR_ARM_ENDPOINT"
ENV_CA_BUNDLE = "REMEDIATOR_CA_BUNDLE"
ENV_CONFIG = "REMEDIATOR_CONFIG"
ENV_LOCALE = "REMEDIATOR_LOCALE"
DEFAULT_TOP = 50
ENV_LEASE_CONTAINER_URL = "REMEDIATOR_LEASE_CONTAINER_URL"
LEASE_URL = re.compile(r"^https://[^\s?#]+$")


@dataclass(frozen=True)
class PlaybookSettings:
    fix: bool | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LeaseSettings:
    """One run per scope at a time (README "Two runs at once"): the container holding the lease blobs."""

    container_url: str
    # How long a second run waits for the holder before it refuses (never past the run's deadline).
    wait_seconds: float = 300.0
    # Azure's fixed leases last 15-60 s; the holder renews every third of it.
    duration_seconds: int = 60


@dataclass(frozen=True)
class Settings:
    scope: Scope = field(default_factory=Scope)
    playbook_ids: tuple[str, ...] = ()
    playbooks: Mapping[str, PlaybookSettings] = field(default_factory=dict)
    max_changes: int = 1000
    exclude: tuple[str, ...] = ()
    exclude_tags: Mapping[str, str] = field(default_factory=lambda: {"aum-remediator": "ignore"})
    concurrency: int = 8
    # Plan/apply rounds of one `run`: later rounds apply what earlier fixes revealed.
    rounds: int = 3
    timeout_seconds: float = 900.0
    # None: 5 s against Azure; the emulator advances per poll, so --estate runs poll fast.
    poll_seconds: float | None = None
    # How long after granting a role the work that needs it is retried on AuthorizationFailed.
    # None: 180 s against Azure; against --estate, the delay the emulator models (runtime.py).
    role_propagation_seconds: float | None = None
    arm_endpoint: str | None = None
    ca_bundle: str | None = None
    now: datetime | None = None
    # Reports: the Microsoft Learn locale of doc links, and the detail rows of bounded reports.
    locale: str = DEFAULT_LOCALE
    top: int = DEFAULT_TOP
    lease: LeaseSettings | None = None


def validate_subscription_id(value: str) -> str:
    if not GUID.match(value):
        raise UsageError(f"invalid subscription id {value!r}: expected a GUID (8-4-4-4-12 hex digits)")
    return value.lower()


_ASSIGNABLE_SCOPE = re.compile(
    r"^/(subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(/resourceGroups/[^/]{1,90})?"
    r"|providers/Microsoft\.Management/managementGroups/[A-Za-z0-9_().-]{1,90})$",
    re.IGNORECASE,
)


def validate_assignable_scope(value: str) -> str:
    """A role definition's assignable scope: a subscription, resource group or management group id."""
    parts = value.split("/")
    if (
        id_problem(value)
        or not _ASSIGNABLE_SCOPE.match(value)
        or (parts[1] == "subscriptions" and not GUID.match(parts[2]))
    ):
        raise UsageError(
            f"invalid --scope {value!r}: expected /subscriptions/GUID, /subscriptions/GUID/resourceGroups/NAME "
            "or /providers/Microsoft.Management/managementGroups/NAME"
        )
    return value


def parse_now(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"invalid --now {value!r}: expected ISO 8601, e.g. 2026-11-26T09:00:00Z") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    # Playbooks add hours and days to the clock: a year at datetime's edge would overflow there.
    if not MIN_NOW_YEAR <= parsed.year <= MAX_NOW_YEAR:
        raise UsageError(f"invalid --now {value!r}: the year must be between {MIN_NOW_YEAR} and {MAX_NOW_YEAR}")
    return parsed


@cache
def _schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        files("remediator").joinpath("schemas/config.schema.json").read_text(encoding="utf-8")
    )
    return loaded


def read_settings_file(path: Path) -> dict[str, Any]:
    try:
        doc = load_yaml(read_text(path, MAX_SETTINGS_BYTES, "config"))
    except InputError as exc:
        raise ConfigError(str(exc) if str(exc).startswith("config") else f"config {path.name}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config {path.name}: not valid YAML{where}: {problem}") from None
    if doc is None:
        return {}
    infinite = _non_finite(doc)
    if infinite is not None:
        # YAML's .inf and .nan are floats: a deadline or poll interval of either never ends.
        raise ConfigError(f"config {path.name}: {infinite}: not a finite number")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(doc))
    if error is not None:
        raise ConfigError(f"config {path.name}: {describe(error)}")
    if not isinstance(doc, dict):  # the schema says object; this keeps the type checker and -O honest
        raise ConfigError(f"config {path.name}: $: expected a mapping")
    return doc


def _non_finite(value: Any, where: str = "$") -> str | None:
    """The JSON path of the first .inf/.nan in ``value``, or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where
    if isinstance(value, dict):
        items = ((f"{where}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    return next((found for path, item in items if (found := _non_finite(item, path)) is not None), None)


def build_settings(
    config_path: str | None = None,
    subscriptions: Sequence[str] = (),
    management_group: str | None = None,
    playbook_ids: Sequence[str] = (),
    arm_endpoint: str | None = None,
    ca_bundle: str | None = None,
    now: str | None = None,
    environ: Mapping[str, str] | None = None,
    locale: str | None = None,
    top: int | None = None,
    lease_container: str | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    path = config_path or env.get(ENV_CONFIG)
    doc = read_settings_file(Path(path)) if path else {}
    scope_doc = doc.get("scope", {})
    for variable in SCOPE_VARIABLES:
        # click treats an empty variable as unset; a templated scope that came out empty must not
        # widen the run to every subscription the identity can see.
        if env.get(variable) == "" and not (subscriptions or management_group):
            raise UsageError(f"{variable} is set but empty: name the scope, or unset it")
    subs = [validate_subscription_id(s) for s in (subscriptions or scope_doc.get("subscriptions", []))]
    # An empty flag or variable (a templated REMEDIATOR_MANAGEMENT_GROUP that came out empty) is an
    # error, never "no management group": that would widen the run to every subscription it can see.
    group = management_group if management_group is not None else scope_doc.get("management_group")
    if group is not None and not MANAGEMENT_GROUP.match(group):
        raise UsageError(f"invalid management group id {group!r}")
    pb_doc = dict(doc.get("playbooks", {}))
    enabled = tuple(playbook_ids) or tuple(pb_doc.pop("enabled", ()))
    pb_doc.pop("enabled", None)
    playbooks = {
        pid: PlaybookSettings(fix=body.get("fix"), options=body.get("options", {})) for pid, body in pb_doc.items()
    }
    guard = doc.get("guardrails", {})
    apply_doc = doc.get("apply", {})
    azure_doc = doc.get("azure", {})
    endpoint = arm_endpoint or env.get(ENV_ARM_ENDPOINT) or azure_doc.get("arm_endpoint")
    if endpoint is not None and not endpoint.startswith("https://"):
        raise UsageError(f"invalid ARM endpoint {endpoint!r}: must be https:// (no bearer token over http)")
    if endpoint is not None and ("@" in endpoint.split("/", 3)[2] or "?" in endpoint or "#" in endpoint):
        # The bot signs in with its identity: credentials or a signature in the URL would end up in
        # plans and reports. The message does not echo it.
        raise UsageError("invalid ARM endpoint: expected https://HOST[:PORT][/PATH], with no user, query or fragment")
    report_doc = doc.get("report", {})
    chosen_locale = locale or env.get(ENV_LOCALE) or report_doc.get("locale") or DEFAULT_LOCALE
    bundle = ca_bundle or env.get(ENV_CA_BUNDLE) or azure_doc.get("ca_bundle")
    if bundle is not None and not Path(bundle).is_file():
        raise UsageError(f"CA bundle {bundle}: no such file")
    return Settings(
        scope=Scope(subscriptions=tuple(subs), management_group=group),
        playbook_ids=enabled,
        playbooks=playbooks,
        max_changes=int(guard.get("max_changes", 1000)),
        exclude=tuple(guard.get("exclude", ())),
        exclude_tags=dict(guard.get("exclude_tags", {"aum-remediator": "ignore"})),
        concurrency=int(apply_doc.get("concurrency", 8)),
        rounds=int(apply_doc.get("rounds", 3)),
        timeout_seconds=float(apply_doc.get("timeout_seconds", 900.0)),
        poll_seconds=float(apply_doc["poll_seconds"]) if "poll_seconds" in apply_doc else None,
        role_propagation_seconds=(
            float(apply_doc["role_propagation_seconds"]) if "role_propagation_seconds" in apply_doc else None
        ),
        arm_endpoint=endpoint.rstrip("/") if endpoint else None,
        ca_bundle=bundle,
        now=parse_now(now) if now else None,
        locale=validate_locale(chosen_locale),
        top=top if top is not None else int(report_doc.get("top", DEFAULT_TOP)),
        lease=_lease(doc.get("lease", {}), lease_container or env.get(ENV_LEASE_CONTAINER_URL)),
    )


def _lease(doc: Mapping[str, Any], container_url: str | None) -> LeaseSettings | None:
    url = container_url or doc.get("container_url")
    if url is None:
        return None
    if not LEASE_URL.match(url):
        # A query would carry a SAS token into logs and reports: the bot signs in with its identity.
        # The message leaves the query out: it may be that very SAS token.
        shown = url.split("?", 1)[0].split("#", 1)[0]
        raise UsageError(
            f"invalid lease container URL {shown!r}: expected https://ACCOUNT/CONTAINER, no query or SAS token"
        )
    return LeaseSettings(
        container_url=url.rstrip("/"),
        wait_seconds=float(doc.get("wait_seconds", 300.0)),
        duration_seconds=int(doc.get("duration_seconds", 60)),
    )


def validate_options(playbook: Playbook, options: Mapping[str, Any]) -> None:
    """A playbook's options from the settings file, against the schema the playbook declares."""
    if not playbook.options_schema:
        return
    validator = jsonschema.Draft202012Validator(dict(playbook.options_schema))
    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(options)))
    if error is not None:
        where = describe(error).replace("$", f"playbooks.{playbook.id}.options", 1)
        raise ConfigError(f"config: {where}")


def check_playbook_settings(settings: Settings, registry: Registry) -> tuple[str, ...]:
    """Settings that would do nothing: refused when they contradict the playbook, warned otherwise.

    ``fix: true`` on a report-only playbook can never do anything: a ConfigError. A switch or
    options for a playbook this run does not enable are warnings (``--playbook`` narrows a run
    legitimately, and the same file serves the next run).
    """
    warnings: list[str] = []
    enabled = set(settings.playbook_ids) or {pb.id for pb in registry.all()}
    for pid, pb_settings in settings.playbooks.items():
        playbook = registry.get(pid)  # an unknown id is an error
        if pb_settings.fix and playbook.report_only:
            raise ConfigError(f"config: playbooks.{pid}.fix: {pid} only reports; it has no fix to turn on")
        if pid not in enabled:
            what = "fix: true" if pb_settings.fix else "its settings"
            warnings.append(f"config: playbooks.{pid}: {what} has no effect: {pid} is not enabled in this run")
        elif pb_settings.fix is True and playbook.fix_default:
            warnings.append(f"config: playbooks.{pid}.fix: true is already the default")
    return tuple(warnings)
