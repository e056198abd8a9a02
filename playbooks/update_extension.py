"""update-extension: the patch / OS update extension is missing or not Succeeded.

troubleshoot.md, "Windows/Linux patch update extension isn't installed" (Azure VMs) and
"Windows/Linux OS update extension isn't installed" (Arc-enabled servers): without a Succeeded
extension there is no on-demand assessment or patching, scheduled patching or periodic
assessment. The documented fix, which is what the plan does:

1. an extension present but not Succeeded is removed (``delete-extension``) — an assessment does
   not repair it, and there is nothing to create before the delete: the assessment reinstalls it;
2. an on-demand assessment is triggered (``assess-patches``), which installs the extension.

"MsftLinuxPatchAutoAssess service isn't running or times out" (Linux periodic assessment) is
the same fix while the LinuxPatchExtension is not Succeeded. Once it is Succeeded and the latest
assessment still blames the service, the documented resolution is a reboot: that is reported,
never done (a reboot is an outage the owner schedules).

A missing extension is only flagged where Azure has had a reason to install it (see
`_extension_model.required_extensions`: an assessment or an installation run on record) unless
the option ``all_machines`` is true: most VMs in a tenant were never assessed and lack nothing,
and a new VM gets its extension at its first periodic assessment (a machine whose periodic
assessment never came is stale-assessment's finding).
Machines that cannot run extension operations now (allowExtensionOperations false, a stopped VM,
a disconnected Arc server) are reported with the reason and not planned.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from remediator import Change, Context, Estate, Finding, Needs, Playbook, Resource, register

from ._extension_model import (
    ARC_ASSESSMENT,
    ARC_EXTENSION,
    ARC_INSTALLATION,
    MACHINE_TYPES,
    TRANSIENT_STATES,
    VM_ASSESSMENT,
    VM_EXTENSION,
    VM_INSTALLATION,
    ExtensionKind,
    extension_kind,
    extension_operations_blocked,
    is_vm,
    latest_assessment,
    machine_os,
    machines,
    mentions_auto_assess,
    on_demand_installs,
    provisioning_state,
    required_extensions,
    update_extensions,
)

PLAYBOOK_ID = "update-extension"
VM_DOC = "troubleshoot.md#windowslinux-patch-update-extension-isnt-installed"
ARC_DOC = "troubleshoot.md#windowslinux-os-update-extension-isnt-installed"
AUTO_ASSESS_DOC = "troubleshoot.md#msftlinuxpatchautoassess-service-isnt-running-or-times-out"
DELETE_ORDER = 40
ASSESS_ORDER = 50


@dataclass(frozen=True)
class MachineCheck:
    """What is wrong with one machine's update extensions."""

    machine: Resource
    os_name: str
    missing: tuple[ExtensionKind, ...]
    broken: tuple[Resource, ...]  # present, terminal, not Succeeded: remove, then assess
    in_progress: tuple[Resource, ...]  # Creating/Updating/Deleting: an operation holds them
    auto_assess: bool  # the latest assessment blames MsftLinuxPatchAutoAssess
    blocked: str
    # What the assessment must leave installed and Succeeded: the needed extensions and the
    # broken ones it reinstalls (an Arc patch extension without periodic assessment is not).
    verify: tuple[ExtensionKind, ...]

    @property
    def wrong(self) -> bool:
        return bool(self.missing or self.broken or self.in_progress or self.auto_assess)

    @property
    def fixable(self) -> bool:
        return not self.blocked and not self.in_progress and bool(self.missing or self.broken)


def check(estate: Estate, machine: Resource, all_machines: bool) -> MachineCheck | None:
    os_name = machine_os(machine)
    if not os_name:
        return None
    installed = update_extensions(estate, machine)
    broken: list[Resource] = []
    in_progress: list[Resource] = []
    for extension in installed:
        state = provisioning_state(extension).lower()
        if state == "succeeded":
            continue
        (in_progress if state in TRANSIENT_STATES else broken).append(extension)
    kinds_present = {extension_kind(e) for e in installed}
    required = required_extensions(estate, machine, os_name, all_machines=all_machines)
    broken_kinds = {extension_kind(e) for e in broken}
    return MachineCheck(
        machine=machine,
        os_name=os_name,
        missing=tuple(k for k in required if k not in kinds_present),
        broken=tuple(broken),
        in_progress=tuple(in_progress),
        auto_assess=os_name == "linux" and mentions_auto_assess(latest_assessment(estate, machine), installed),
        blocked=extension_operations_blocked(machine),
        verify=tuple(k for k in on_demand_installs(machine, os_name) if k in required or k in broken_kinds),
    )


def _describe(result: MachineCheck) -> str:
    kind = "VM" if is_vm(result.machine) else "Arc-enabled server"
    parts: list[str] = []
    for extension in result.broken:
        parts.append(f"{_name(extension)} is {provisioning_state(extension) or 'in no provisioning state'}")
    for extension in result.in_progress:
        parts.append(f"{_name(extension)} is {provisioning_state(extension)}")
    parts.extend(f"{k.full_name} is not installed" for k in result.missing)
    if result.auto_assess:
        parts.append("the MsftLinuxPatchAutoAssess service is reported not running or timing out")
    return f"On this {result.os_name.capitalize()} {kind}, " + "; ".join(parts) + "."


def _name(extension: Resource) -> str:
    kind = extension_kind(extension)
    return f"extension '{extension.name}' ({kind.full_name if kind else 'unknown'})"


def _next_steps(result: MachineCheck) -> str:
    if result.blocked:
        return f" Not planned: {result.blocked}. Once that is resolved the next run removes and reinstalls it."
    if result.in_progress:
        return (
            " An operation holds the extension; if it stays in that state, remove the extension and trigger an "
            "on-demand assessment (the next run plans that once the operation has ended)."
        )
    if result.broken or result.missing:
        removal = "remove the failed extension, then " if result.broken else ""
        return f" Fix: {removal}trigger an on-demand assessment, which installs the extension."
    # Only the MsftLinuxPatchAutoAssess report is left, with the extension Succeeded.
    return (
        " The LinuxPatchExtension is Succeeded, so the documented resolution is manual: reboot the machine and "
        "check that periodic assessments resume."
    )


def detect(ctx: Context) -> Iterable[Finding]:
    all_machines = bool(ctx.option("all_machines", False))
    for machine in machines(ctx.estate):
        result = check(ctx.estate, machine, all_machines)
        if result is None or not result.wrong:
            continue
        only_auto_assess = not (result.missing or result.broken or result.in_progress)
        doc = AUTO_ASSESS_DOC if only_auto_assess else VM_DOC if is_vm(machine) else ARC_DOC
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="medium" if only_auto_assess else "high",
            title=(
                "Linux periodic assessment blocked: MsftLinuxPatchAutoAssess"
                if only_auto_assess
                else "Update Manager extension missing or not Succeeded"
            ),
            detail=_describe(result) + _next_steps(result),
            doc=doc,
            fixable=result.fixable,
            data={
                "os": result.os_name,
                "missing": [k.to_json() for k in result.missing],
                "broken": [{"id": e.id, "provisioningState": provisioning_state(e)} for e in result.broken],
                "in_progress": [e.id for e in result.in_progress],
                "auto_assess": result.auto_assess,
                "blocked": result.blocked,
                "verify": [k.to_json() for k in result.verify],
            },
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    deletes = [
        Change(
            finding_id=finding.id,
            playbook=PLAYBOOK_ID,
            resource_id=broken["id"],
            action="delete-extension",
            before={"exists": True, "provisioningState": broken["provisioningState"]},
            after={"exists": False},
            order=DELETE_ORDER,
        )
        for broken in finding.data["broken"]
    ]
    yield from deletes
    if not finding.data["verify"]:
        # Only an extension no assessment reinstalls was broken: removing it is the whole fix.
        return
    yield Change(
        finding_id=finding.id,
        playbook=PLAYBOOK_ID,
        resource_id=finding.resource_id,
        action="assess-patches",
        # Something to verify is missing or broken, so this is False; removing a failed extension
        # leaves it False, so the delete before it does not make this change stale.
        before={"updateExtensionsSucceeded": False},
        after={"updateExtensionsSucceeded": True},
        params={"extensions": list(finding.data["verify"])},
        order=ASSESS_ORDER,
        depends_on=tuple(c.id for c in deletes),
    )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Update Manager's patch / OS update extension must be installed and Succeeded",
        doc=VM_DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(
            resource_types=frozenset(
                {*MACHINE_TYPES, VM_EXTENSION, ARC_EXTENSION, VM_ASSESSMENT, ARC_ASSESSMENT}
                | {VM_INSTALLATION, ARC_INSTALLATION},
            )
        ),
        permissions=(
            "Microsoft.Compute/virtualMachines/extensions/delete",
            "Microsoft.Compute/virtualMachines/assessPatches/action",
            "Microsoft.HybridCompute/machines/extensions/delete",
            "Microsoft.HybridCompute/machines/assessPatches/action",
        ),
        # roles-permissions.md: reading results, and the status of the assessment's async operation.
        read_permissions=(
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/extensions/read",
            "Microsoft.Compute/virtualMachines/patchAssessmentResults/read",
            "Microsoft.Compute/locations/operations/read",
            "Microsoft.HybridCompute/machines/read",
            "Microsoft.HybridCompute/machines/extensions/read",
            "Microsoft.HybridCompute/machines/patchAssessmentResults/read",
            "Microsoft.HybridCompute/locations/updateCenterOperationResults/read",
        ),
        fix_default=True,
        phase=50,
        options_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"all_machines": {"type": "boolean"}},
        },
    )
)
