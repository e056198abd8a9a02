"""Judge recorded requests (``Emulator.request_log``) against the spec folder's swaggers.

A request to a service the folder has a swagger for must match one of its operations, and use
none of the features the example replay skips as unused (skips.py): the method is defined for
the path, the api-version is one of the folder's versions of that operation, and, by the swagger
of that very version (a 2024-10-01 body is never judged by 2021-10-01's schema), every query
parameter is one the operation declares (and the required ones are there), the body fits the
operation's body parameter and the answer fits its response schema. A request to a service with
no swagger in the folder is counted as unchecked, by service; its api-version is still held to
``documented_versions`` when that lists the service. The emulator's own token authority and
operation-status URLs are not ARM APIs (clients follow whatever URL a header gives) and are
counted apart.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from remediator.emulator.state import LogEntry
from tests.contract.documented_versions import DOCUMENTED, NEWER_THAN_FOLDER
from tests.contract.skips import used_feature
from tests.contract.swagger import Operation, SpecFolder, service_of

_AUTHORITY = re.compile(r"/(oauth2/|v2\.0/\.well-known/|\.well-known/)", re.IGNORECASE)
_EMULATOR_OPERATIONS = "/providers/microsoft.emulator/"


@dataclass(frozen=True)
class Answer:
    """What the emulator answered to one routed ARM request (read from its request log)."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any


@dataclass
class TrafficReport:
    checked: Counter[str] = field(default_factory=Counter)  # operationId -> requests
    versions: Counter[str] = field(default_factory=Counter)  # "operationId at api-version" -> requests
    answers: Counter[str] = field(default_factory=Counter)  # operationId -> responses checked
    unchecked: Counter[str] = field(default_factory=Counter)  # service -> requests
    not_arm: Counter[str] = field(default_factory=Counter)  # "token authority" / "operation status"
    failures: list[str] = field(default_factory=list)

    def merge(self, other: TrafficReport) -> None:
        self.checked.update(other.checked)
        self.versions.update(other.versions)
        self.answers.update(other.answers)
        self.unchecked.update(other.unchecked)
        self.not_arm.update(other.not_arm)
        self.failures.extend(other.failures)

    def summary(self) -> list[str]:
        lines = [
            f"checked against the swaggers: {sum(self.checked.values())} requests, "
            f"{sum(self.answers.values())} responses"
        ]
        lines += [f"  {count:5d}  {name}" for name, count in sorted(self.versions.items())]
        lines.append(f"unchecked (no swagger in the folder): {sum(self.unchecked.values())} requests")
        for service, count in sorted(self.unchecked.items()):
            documented = DOCUMENTED.get(service)
            if " at " in service:
                note = "a newer api-version than the folder's swagger; only the version is checked"
            elif documented:
                note = f"api-version held to {', '.join(documented.versions)}"
            else:
                note = "api-version not checked"
            lines.append(f"  {count:5d}  {service} ({note})")
        lines += [f"not ARM: {count} {name} requests" for name, count in sorted(self.not_arm.items())]
        return lines


# Where the traffic tests leave their combined report for the terminal summary (conftest.py).
TRAFFIC_KEY = pytest.StashKey["TrafficReport"]()


def judge(specs: SpecFolder, entries: Iterable[LogEntry]) -> TrafficReport:
    report = TrafficReport()
    for entry in entries:
        if _AUTHORITY.search(entry.path):
            report.not_arm["token authority"] += 1
        elif _EMULATOR_OPERATIONS in entry.path.lower():
            report.not_arm["operation status"] += 1
        else:
            _judge_arm(specs, entry, report)
    return report


def _judge_arm(specs: SpecFolder, entry: LogEntry, report: TrafficReport) -> None:
    where = f"{entry.method} {entry.path}?api-version={entry.api_version}"
    operation = specs.match(entry.method, entry.path)
    if operation is None:
        service = service_of(entry.path)
        if service in specs.covered_services:
            report.failures.append(f"{where}: no operation in the swaggers for {service} matches this method and path")
            return
        report.unchecked[service or "(unknown)"] += 1
        documented = DOCUMENTED.get(service)
        if documented and entry.api_version not in documented.versions:
            report.failures.append(
                f"{where}: api-version not among {', '.join(documented.versions)} ({documented.source})"
            )
        return
    skipped_as_unused = used_feature(operation.operation_id, entry.query, entry.body)
    if skipped_as_unused:
        report.failures.append(f"{where} ({operation.operation_id}): the example replay skips this as unused: "
                               f"{skipped_as_unused}")  # fmt: skip
    versioned = specs.match(entry.method, entry.path, entry.api_version)
    if versioned is None:
        newer = NEWER_THAN_FOLDER.get(service_of(entry.path))
        if newer and entry.api_version in newer.versions:
            report.unchecked[f"{service_of(entry.path)} at {entry.api_version}"] += 1
        else:
            allowed = specs.api_versions(entry.method, entry.path)
            report.failures.append(
                f"{where} ({operation.operation_id}): api-version {entry.api_version} is not one the folder's "
                f"swaggers define ({', '.join(allowed)})"
            )
        return
    operation = versioned
    report.checked[operation.operation_id] += 1
    report.versions[f"{operation.operation_id} at {operation.api_version}"] += 1
    problems = [*_query_problems(operation, entry.query), *operation.body_errors(_body(entry.body))]
    report.failures.extend(f"{where} ({operation.operation_id}): {problem}" for problem in problems)


def answers_in(entries: Iterable[LogEntry]) -> list[Answer]:
    """The answers the request log recorded for requests that reached the routes.

    Token-authority answers (never logged), refusals before routing (401) and dropped
    connections carry no ARM answer to judge. An answer whose body the log did not keep (larger
    than the ``logResponseBodyBytes`` knob) cannot be judged: that is an error, not a skip.
    """
    found: list[Answer] = []
    for entry in entries:
        if entry.route in ("token-authority", "unauthenticated") or entry.status == 0:
            continue
        if not entry.response_body_kept:
            raise AssertionError(
                f"{entry.method} {entry.path}: the request log did not keep the {entry.response_bytes}-byte answer; "
                "raise the emulator's logResponseBodyBytes knob"
            )
        found.append(Answer(entry.method, entry.path, dict(entry.query), entry.status, entry.response_body))
    return found


def judge_answers(specs: SpecFolder, answers: Iterable[Answer]) -> TrafficReport:
    """Hold each answer to the response schema of its operation at the api-version it was asked at."""
    report = TrafficReport()
    for answer in answers:
        operation = specs.match(answer.method, answer.path, answer.query.get("api-version"))
        if operation is None:
            continue  # counted (as unchecked or failed) when its request was judged
        report.answers[operation.operation_id] += 1
        where = f"{answer.method} {answer.path} -> {answer.status}"
        problems = operation.response_errors(answer.status, answer.body)
        report.failures.extend(f"{where} ({operation.operation_id}): {problem}" for problem in problems)
    return report


def _query_problems(operation: Operation, query: dict[str, str]) -> list[str]:
    declared = {str(p["name"]).lower(): p for p in operation.parameter("query")}
    problems = [f"query parameter {name!r} is not declared" for name in query if name.lower() not in declared]
    sent = {name.lower() for name in query}
    problems += [
        f"required query parameter {p['name']!r} is missing"
        for name, p in declared.items()
        if p.get("required") and name not in sent
    ]
    return problems


def _body(body: Any) -> Any:
    return None if body in (b"", "") else body
