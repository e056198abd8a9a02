"""assessment-errors: machines shown as "Not assessed" because their latest assessment failed.

Reads the latest patch assessment of every Azure VM and Arc-enabled server (Resource Graph's
``patchassessmentresources``, ``<machine>/patchAssessmentResults/latest``), and for each one that
failed (or finished with errors) names the documented cause its ``errorDetails`` show, from the
one cause table (`_update_causes`), with the section and its resolution. Report only: these are
fixed on the machine; where update-extension's fix applies (an extension not Succeeded), the
finding says so, and where only the documented reboot is left, it says that instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator import Context, Finding, Needs, Playbook, Resource, register

from ._extension_model import (
    ARC_ASSESSMENT,
    ARC_EXTENSION,
    MACHINE_TYPES,
    VM_ASSESSMENT,
    VM_EXTENSION,
    assessment_failed,
    latest_assessment,
    machines,
)
from ._update_causes import ASSESSMENT, HRESULT_SECTION
from ._update_results import diagnose, result_reads

PLAYBOOK_ID = "assessment-errors"
DOC = HRESULT_SECTION


def _finding(ctx: Context, machine: Resource, result: Resource) -> Finding:
    causes, detail, doc, data = diagnose(ctx.estate, machine, result, ASSESSMENT, "The latest patch assessment")
    return Finding(
        playbook=PLAYBOOK_ID,
        resource_id=machine.id,
        severity="medium",
        title=f"Not assessed: {causes}",
        detail=detail,
        doc=doc,
        fixable=False,
        data={"assessment_id": result.id, **data},
    )


def detect(ctx: Context) -> Iterable[Finding]:
    for machine in machines(ctx.estate):
        result = latest_assessment(ctx.estate, machine)
        if result is not None and assessment_failed(result):
            yield _finding(ctx, machine, result)


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Failed patch assessments, with their documented cause and resolution",
        doc=DOC,
        severity="medium",
        detect=detect,
        needs=Needs(
            resource_types=frozenset({*MACHINE_TYPES, VM_ASSESSMENT, ARC_ASSESSMENT, VM_EXTENSION, ARC_EXTENSION})
        ),
        permissions=(),
        read_permissions=result_reads("patchAssessmentResults"),
        fix_default=False,
        phase=90,
    )
)
