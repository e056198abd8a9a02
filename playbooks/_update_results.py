"""Shared by assessment-errors and installation-errors: a failed result turned into one finding.

Both read Update Manager's results in Resource Graph's shapes (query-logs.md:
``patchassessmentresources`` and ``patchinstallationresources``), diagnose ``errorDetails`` with
the one cause table (`_update_causes`) and say what fixes each cause. Two causes depend on the
machine, not on the text: an extension that is not Succeeded is what update-extension repairs;
once it is Succeeded, MsftLinuxPatchAutoAssess's documented resolution is a reboot, which no
playbook does.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from remediator import Estate, Resource

from ._extension_model import (
    is_vm,
    machine_os,
    provisioning_state,
    required_extensions,
    result_errors,
    update_extensions,
)
from ._maintenance_model import time_of
from ._update_causes import (
    AUTO_ASSESS_ID,
    HRESULT_SECTION,
    ON_MACHINE_CHECKS,
    UPDATE_EXTENSION_ID,
    Diagnosis,
    classify,
    needs_on_machine_checks,
)

MAX_EVIDENCE = 300


def result_reads(results: str) -> tuple[str, ...]:
    """What reading machines, their extensions and their ``results`` (``patchAssessmentResults`` or
    ``patchInstallationResults``) takes, for Azure VMs and Arc-enabled servers."""
    return tuple(
        f"{provider}/{action}"
        for provider in ("Microsoft.Compute/virtualMachines", "Microsoft.HybridCompute/machines")
        for action in ("read", "extensions/read", f"{results}/read")
    )


def result_time(result: Resource) -> datetime | None:
    props = result.properties
    return time_of(props.get("lastModifiedDateTime")) or time_of(props.get("startDateTime"))


def extension_not_succeeded(estate: Estate, machine: Resource) -> bool:
    """Is one of the machine's update extensions not Succeeded, or one it needs missing?"""
    installed = update_extensions(estate, machine)
    if any(provisioning_state(e).lower() != "succeeded" for e in installed):
        return True
    os_name = machine_os(machine)
    if not os_name:
        return False
    present = {(str(e.properties.get("publisher")).lower(), str(e.properties.get("type")).lower()) for e in installed}
    return any(
        (k.publisher.lower(), k.type.lower()) not in present for k in required_extensions(estate, machine, os_name)
    )


def _remedy(estate: Estate, machine: Resource, diagnosis: Diagnosis) -> tuple[str, str]:
    """(how, resolution) for one cause on this machine."""
    if diagnosis.cause.id in (AUTO_ASSESS_ID, UPDATE_EXTENSION_ID):
        if extension_not_succeeded(estate, machine):
            return "Resolution (playbook update-extension does this)", diagnosis.resolution
        if diagnosis.cause.id == AUTO_ASSESS_ID:
            return (
                "Manual resolution, on the machine",
                "The LinuxPatchExtension is Succeeded, so the documented resolution left is a reboot of the machine; "
                "then check that periodic assessments resume.",
            )
        return "Resolution", "The extension is Succeeded now: trigger an on-demand operation to confirm."
    return "Manual resolution, on the machine", diagnosis.resolution


def _line(estate: Estate, machine: Resource, diagnosis: Diagnosis) -> str:
    evidence = diagnosis.evidence
    if len(evidence) > MAX_EVIDENCE:
        evidence = evidence[: MAX_EVIDENCE - 1] + "…"
    how, resolution = _remedy(estate, machine, diagnosis)
    return f'Cause: {diagnosis.cause.title} — error: "{evidence}". {how}: {resolution} [{diagnosis.cause.doc}]'


def diagnose(
    estate: Estate, machine: Resource, result: Resource, phase: str, headline: str
) -> tuple[str, str, str, Mapping[str, Any]]:
    """(title causes, detail, doc, data) for a failed result of ``phase``."""
    texts = result_errors(result)
    diagnoses = classify(texts, phase)
    kind = "VM" if is_vm(machine) else "Arc-enabled server"
    status = str(result.properties.get("status") or "with errors")
    when = str(result.properties.get("lastModifiedDateTime") or result.properties.get("startDateTime") or "")
    causes = ", ".join(d.cause.title for d in diagnoses) or "no error details recorded"
    detail = f"{headline} of this {kind}" + (f" ({when})" if when else "") + f" finished {status}."
    if diagnoses:
        detail += " " + " ".join(_line(estate, machine, d) for d in diagnoses)
    else:
        detail += " It recorded no error details; the extension's logs on the machine hold them."
    if not diagnoses or needs_on_machine_checks(diagnoses):
        detail += " " + ON_MACHINE_CHECKS
    data = {
        "result_id": result.id,
        "status": status,
        "causes": [d.cause.id for d in diagnoses],
        "sections": {d.cause.id: d.cause.doc for d in diagnoses},
        "resolutions": {d.cause.id: _remedy(estate, machine, d)[1] for d in diagnoses},
        "errors": texts[:5],
    }
    return causes, detail, diagnoses[0].cause.doc if diagnoses else HRESULT_SECTION, data
