"""assessment-errors: machines shown as "Not assessed" because their latest assessment failed.

Reads the latest patch assessment of every Azure VM and Arc-enabled server (Resource Graph's
``patchassessmentresources``, ``<machine>/patchAssessmentResults/latest``), and for each one that
failed (or finished with errors) names the documented cause its ``errorDetails`` show — HRESULT
exceptions (with the row of the article's exception table), internal execution error, sudo,
proxy, TLS 1.2, HTTPS, Linux repositories, MsftLinuxPatchAutoAssess — with the article's
resolution. Report only: every one of these is fixed on the machine, not through ARM (the two
causes the update-extension playbook fixes say so).
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator import Context, Finding, Needs, Playbook, Resource, register

from ._extension_causes import Diagnosis, classify
from ._extension_model import (
    ARC_ASSESSMENT,
    MACHINE_TYPES,
    VM_ASSESSMENT,
    assessment_errors,
    assessment_failed,
    is_vm,
    latest_assessment,
    machines,
)

PLAYBOOK_ID = "assessment-errors"
DOC = "troubleshoot.md#machine-is-not-assessed-and-shows-an-hresult-exception"
MAX_EVIDENCE = 300


def _line(diagnosis: Diagnosis) -> str:
    evidence = diagnosis.evidence
    if len(evidence) > MAX_EVIDENCE:
        evidence = evidence[: MAX_EVIDENCE - 1] + "…"
    fixed = f" (playbook {diagnosis.cause.fixed_by} fixes this)" if diagnosis.cause.fixed_by else ""
    how = "Resolution" if diagnosis.cause.fixed_by else "Manual resolution, on the machine"
    return (
        f'Cause: {diagnosis.cause.title}{fixed} — error: "{evidence}". {how}: {diagnosis.resolution} '
        f"[{diagnosis.cause.doc}]"
    )


def _finding(machine: Resource, result: Resource) -> Finding:
    texts = assessment_errors(result)
    diagnoses = classify(texts)
    kind = "VM" if is_vm(machine) else "Arc-enabled server"
    status = str(result.properties.get("status") or "with errors")
    when = str(result.properties.get("lastModifiedDateTime") or result.properties.get("startDateTime") or "")
    causes = ", ".join(d.cause.title for d in diagnoses) or "no error details recorded"
    detail = f"The latest patch assessment of this {kind}" + (f" ({when})" if when else "") + f" finished {status}."
    if diagnoses:
        detail += " " + " ".join(_line(d) for d in diagnoses)
    else:
        detail += " It recorded no error details; the extension's logs on the machine hold them."
    return Finding(
        playbook=PLAYBOOK_ID,
        resource_id=machine.id,
        severity="medium",
        title=f"Not assessed: {causes}",
        detail=detail,
        doc=diagnoses[0].cause.doc if diagnoses else DOC,
        fixable=False,
        data={
            "assessment_id": result.id,
            "status": status,
            "causes": [d.cause.id for d in diagnoses],
            "resolutions": {d.cause.id: d.resolution for d in diagnoses},
            "errors": texts[:5],
        },
    )


def detect(ctx: Context) -> Iterable[Finding]:
    for machine in machines(ctx.estate):
        result = latest_assessment(ctx.estate, machine)
        if result is not None and assessment_failed(result):
            yield _finding(machine, result)


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Failed patch assessments, with their documented cause and resolution",
        doc=DOC,
        severity="medium",
        detect=detect,
        needs=Needs(resource_types=frozenset({*MACHINE_TYPES, VM_ASSESSMENT, ARC_ASSESSMENT})),
        permissions=(),
        read_permissions=(
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/patchAssessmentResults/read",
            "Microsoft.HybridCompute/machines/read",
            "Microsoft.HybridCompute/machines/patchAssessmentResults/read",
        ),
        fix_default=False,
        phase=90,
    )
)
