"""installation-errors: the latest patch installation run of a machine failed, with its cause.

Reads ``patchinstallationresources`` (query-logs.md: ``<machine>/patchInstallationResults/<id>``,
``status`` NotStarted | InProgress | Failed | Succeeded | CompletedWithWarnings, ``errorDetails``
the first five errors) and reports, per machine, the latest run of the last ``history_days``
(default 30: Resource Graph keeps 30 days of installations) that failed or finished with errors,
with the documented cause from the one cause table (`_update_causes`, installation rows):
internal execution error (troubleshoot.md says it is a patching failure), HRESULT, sudo,
repositories, ShutdownOrUnresponsive, schedule timeout, invalid classification.

A run that failed only because the maintenance window was exceeded, with no error of its own, is
maintenance-window's finding, not this one. An older failure followed by a successful run is
history. Report only: the causes are fixed on the machine (or by the playbook a line names).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from remediator import Context, Finding, Needs, Playbook, Resource, register

from ._extension_model import (
    ARC_EXTENSION,
    ARC_INSTALLATION,
    MACHINE_TYPES,
    VM_EXTENSION,
    VM_INSTALLATION,
    installation_results,
    machines,
    result_errors,
)
from ._update_causes import HRESULT_SECTION, INSTALLATION
from ._update_results import diagnose, result_reads, result_time

PLAYBOOK_ID = "installation-errors"
FAILED = "failed"
WITH_ERRORS = frozenset({"", "completedwithwarnings", "unknown"})


def latest_installation(ctx: Context, machine: Resource) -> Resource | None:
    since = ctx.estate.now - timedelta(days=float(ctx.option("history_days", 30)))
    best: Resource | None = None
    for result in installation_results(ctx.estate, machine):
        when = result_time(result)
        if when is None or when < since:
            continue
        best_when = result_time(best) if best is not None else None
        if best_when is None or best_when < when:
            best = result
    return best


def installation_failed(result: Resource) -> bool:
    status = str(result.properties.get("status") or "").lower()
    errors = result_errors(result)
    if status == FAILED:
        # Only the window ran out: maintenance-window reports that run.
        return bool(errors) or result.properties.get("maintenanceWindowExceeded") is not True
    return status in WITH_ERRORS and bool(errors)


def detect(ctx: Context) -> Iterable[Finding]:
    for machine in machines(ctx.estate):
        result = latest_installation(ctx, machine)
        if result is None or not installation_failed(result):
            continue
        causes, detail, doc, data = diagnose(ctx.estate, machine, result, INSTALLATION, "The latest patch installation")
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="high",
            title=f"Patch installation failed: {causes}",
            detail=detail,
            doc=doc,
            fixable=False,
            data={"installation_id": result.id, **data},
        )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Failed patch installations, with their documented cause and resolution",
        doc=HRESULT_SECTION,
        severity="high",
        detect=detect,
        needs=Needs(
            resource_types=frozenset({*MACHINE_TYPES, VM_INSTALLATION, ARC_INSTALLATION, VM_EXTENSION, ARC_EXTENSION})
        ),
        read_permissions=result_reads("patchInstallationResults"),
        fix_default=False,
        phase=90,
        options_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"history_days": {"type": "number", "exclusiveMinimum": 0}},
        },
    )
)
