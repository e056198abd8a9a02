"""Plan JSON (DESIGN.md 3.2): the one serialisation of a `Plan`, for reports and `plan --out`.

A plan file is read back by `remediator apply`: it is validated against the schema, its major
``format_version`` must be ours, and every change must still hash to its own id and fingerprint
(an edited plan is refused rather than half-trusted).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from .errors import PlanFileError
from .jsonpath import describe
from .model import FORMAT_VERSION, Change, Finding, Outcome, OutcomeError, Plan, fingerprint
from .safe_input import MAX_PLAN_BYTES, InputError, load_json, read_text


def plan_to_json(plan: Plan, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": plan.format_version,
        "tool_version": plan.tool_version,
        "generated_at": plan.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dry_run": plan.dry_run,
        "scope": dict(plan.scope),
        "summary": plan.summary(),
        "findings": [f.to_json() for f in plan.findings],
        "changes": [c.to_json() for c in plan.changes],
        "outcomes": [o.to_json() for o in plan.outcomes],
    }
    if plan.target:
        doc["target"] = dict(plan.target)
    if errors:
        doc["errors"] = list(errors)
    if notes:
        doc["notes"] = list(notes)
    if plan.replan is not None:
        doc["plan_after_apply"] = {
            "summary": plan.replan.summary(),
            "findings": [f.to_json() for f in plan.replan.findings],
            "changes": [c.to_json() for c in plan.replan.changes],
        }
    return doc


def write_plan(plan: Plan, path: Path, errors: tuple[str, ...] = (), notes: tuple[str, ...] = ()) -> None:
    path.write_text(json.dumps(plan_to_json(plan, errors, notes), indent=2) + "\n", encoding="utf-8")


@cache
def _schema() -> dict[str, Any]:
    text = files("remediator").joinpath("schemas/plan.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def read_plan(path: Path) -> Plan:
    try:
        doc = load_json(read_text(path, MAX_PLAN_BYTES, "plan"), f"plan {path.name}")
    except InputError as exc:
        raise PlanFileError(str(exc)) from None
    return plan_from_json(doc, path.name)


def plan_from_json(doc: Any, name: str = "plan") -> Plan:
    if not isinstance(doc, Mapping):
        raise PlanFileError(f"plan {name}: $: expected a JSON object")
    version = str(doc.get("format_version", ""))
    if version.split(".")[0] != FORMAT_VERSION.split(".")[0]:
        raise PlanFileError(
            f"plan {name}: format_version {version or '(missing)'} is not supported (this tool reads "
            f"{FORMAT_VERSION.split('.')[0]}.x)"
        )
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(_schema()).iter_errors(doc))
    if error is not None:
        raise PlanFileError(f"plan {name}: {describe(error)}")
    findings = tuple(
        Finding(
            playbook=f["playbook"],
            resource_id=f["resource_id"],
            severity=f["severity"],
            title=f["title"],
            detail=f["detail"],
            doc=f["doc"],
            fixable=f["fixable"],
            key=f.get("key", ""),
            data=f.get("data", {}),
        )
        for f in doc["findings"]
    )
    changes: list[Change] = []
    seen: set[str] = set()
    for i, c in enumerate(doc["changes"]):
        change = Change(
            finding_id=c["finding_id"],
            playbook=c["playbook"],
            resource_id=c["resource_id"],
            action=c["action"],
            before=c["before"],
            after=c["after"],
            params=c.get("params", {}),
            order=c.get("order", 50),
            depends_on=tuple(c.get("depends_on", ())),
            fingerprint=c["fingerprint"],
            provides=tuple(c.get("provides", ())),
            requires=tuple(c.get("requires", ())),
        )
        if change.id != c["id"] or change.fingerprint != fingerprint(change.before):
            raise PlanFileError(f"plan {name}: $.changes[{i}]: does not match its id or fingerprint (edited?)")
        if change.id in seen:
            raise PlanFileError(f"plan {name}: $.changes[{i}]: change {change.id} appears twice")
        seen.add(change.id)
        changes.append(change)
    outcomes = tuple(
        Outcome(
            change_id=o["change_id"],
            status=o["status"],
            detail=o.get("detail", ""),
            error=OutcomeError(**o["error"]) if o["error"] else None,
        )
        for o in doc["outcomes"]
    )
    try:
        generated_at = datetime.fromisoformat(doc["generated_at"].replace("Z", "+00:00"))
    except ValueError:
        raise PlanFileError(f"plan {name}: $.generated_at: not an ISO 8601 time") from None
    return Plan(
        generated_at=generated_at,
        dry_run=doc["dry_run"],
        scope=doc["scope"],
        findings=findings,
        changes=tuple(changes),
        outcomes=outcomes,
        tool_version=doc["tool_version"],
        format_version=version,
        target=_target(doc.get("target"), name),
    )


def _target(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise PlanFileError(f"plan {name}: $.target: expected an object of strings")
    return {str(k): v for k, v in value.items()}
