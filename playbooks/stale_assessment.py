"""stale-assessment: periodic assessment is on, but the last assessment is old or never came.

Periodic assessment runs every 24 hours (troubleshoot.md, "MsftLinuxPatchAutoAssess service isn't
running or times out": periodic assessments stop on Linux when that service does not run; on any
machine when the patch extension is not Succeeded; on Arc servers when the subscription is not
registered to Microsoft.Compute). Azure does not show whether the auto-assessment service runs;
what it does show is the result it leaves behind: ``patchassessmentresources``'s
``lastModifiedDateTime``. So a machine is flagged when periodic assessment is on for it —
``assessmentMode`` AutomaticByPlatform, or an enforcing assignment of the periodic-assessment
policy for its OS covers it — and its latest assessment is older than 24 hours plus
``grace_hours`` (default 12), or there is none although the machine was created longer ago than
that. Machines that are shut down or disconnected are powered-off-machines' business, not this.

The finding names the cause Azure does show (subscription not registered, extension missing or
not Succeeded) and otherwise says that the service state is only visible on the machine, with
the check to run there. Report only: an on-demand assessment would hide the symptom, not restart
the periodic one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from remediator import Context, Finding, Needs, Playbook, Resource, register

from ._extension_model import (
    ARC_ASSESSMENT,
    ARC_EXTENSION,
    MACHINE_TYPES,
    NOT_RUNNING,
    PATCH_EXTENSION,
    VM_ASSESSMENT,
    VM_EXTENSION,
    is_vm,
    latest_assessment,
    machine_os,
    machines,
    periodic_assessment_on,
    power_state,
    provisioning_state,
    update_extensions,
)
from ._maintenance_model import time_of
from ._policy_model import POLICY_ASSIGNMENT, assignments
from ._update_results import result_reads, result_time

PLAYBOOK_ID = "stale-assessment"
CYCLE = timedelta(hours=24)
AUTO_ASSESS_DOC = "troubleshoot.md#msftlinuxpatchautoassess-service-isnt-running-or-times-out"
ARC_PROVIDER_DOC = "troubleshoot.md#you-cant-generate-periodic-assessment-for-azure-arc-enabled-servers"
EXTENSION_DOC = "troubleshoot.md#windowslinux-patch-update-extension-isnt-installed"
GENERAL_DOC = "troubleshoot.md#general-troubleshooting"
# The periodic-assessment built-ins (azure/policy-definitions): osType parameter, default Windows.
PERIODIC_POLICIES = {
    "59efceea-0c96-497e-a4a1-4eb2290dac15": "microsoft.compute/virtualmachines",
    "bfea026e-043f-4ff4-9d1b-bf301ca7ff46": "microsoft.hybridcompute/machines",
}
LINUX_SERVICE_CHECK = (
    "Azure does not show the service's state: on the machine, `systemctl status MsftLinuxPatchAutoAssess.timer "
    "MsftLinuxPatchAutoAssess.service` shows whether the auto-assessment timer and service (installed by the "
    "LinuxPatchExtension, github.com/Azure/LinuxPatchExtension) are active; the documented resolution is to make "
    "sure the LinuxPatchExtension is Succeeded and reboot the machine."
)
WINDOWS_CHECK = (
    "Azure does not show why the periodic assessment stopped: on the machine, read WindowsUpdateExtension.log under "
    "C:\\WindowsAzure\\Logs\\Plugins\\Microsoft.CPlat.Core.WindowsPatchExtension<version> (Arc: "
    "C:\\ProgramData\\GuestConfig\\extension_logs) and check that the machine reaches Windows Update or its WSUS "
    "server."
)


class PolicyCoverage:
    """Which machines an enforcing assignment of the periodic-assessment policy covers (built once
    per run: 100,000 machines against every state must not be a product)."""

    def __init__(self, ctx: Context) -> None:
        self.noncompliant: dict[str, set[str]] = {}
        for state in ctx.estate.policy_states:
            if state.compliance_state.lower() == "noncompliant":
                self.noncompliant.setdefault(state.resource_id.lower(), set()).add(state.policy_assignment_id.lower())
        self.periodic = [
            a
            for a in assignments(ctx.estate)
            if a.definition_id.rsplit("/", 1)[-1].lower() in PERIODIC_POLICIES
            and str(a.resource.properties.get("enforcementMode") or "Default").lower() == "default"
        ]

    def covers(self, machine: Resource, os_name: str) -> bool:
        """Covered for its kind and OS, and not reported non-compliant (that is policy-remediation's)."""
        flagged = self.noncompliant.get(machine.key, set())
        for assignment in self.periodic:
            if PERIODIC_POLICIES[assignment.definition_id.rsplit("/", 1)[-1].lower()] != machine.type_key:
                continue
            scope = assignment.scope.lower().rstrip("/")
            if assignment.id.lower() in flagged or not (machine.key == scope or machine.key.startswith(scope + "/")):
                continue
            not_scopes = assignment.resource.properties.get("notScopes") or ()
            if any(machine.key.startswith(str(n).lower().rstrip("/")) for n in not_scopes):
                continue
            wanted = (assignment.parameters.get("osType") or {}).get("value", "Windows")
            if str(wanted).lower() == os_name:
                return True
        return False


def _created(machine: Resource) -> datetime | None:
    system = machine.raw.get("systemData")
    return time_of(machine.properties.get("timeCreated")) or time_of(
        system.get("createdAt") if isinstance(system, dict) else None
    )


def _cause(ctx: Context, machine: Resource, os_name: str) -> tuple[str, str]:
    """(doc, what Azure shows or what to check on the machine)."""
    if not is_vm(machine):
        sub = ctx.estate.subscription(machine.subscription_id)
        state = sub.provider_state("Microsoft.Compute") if sub else None
        if state and state.lower() != "registered":
            return ARC_PROVIDER_DOC, (
                f"Its subscription is {state} to Microsoft.Compute, so no periodic assessment data is generated "
                "(playbook arc-compute-provider registers it)."
            )
    wanted = PATCH_EXTENSION[os_name]
    extensions = [e for e in update_extensions(ctx.estate, machine) if wanted.matches(e)]
    if not extensions:
        return EXTENSION_DOC, (
            f"{wanted.full_name}, which periodic assessment runs in, is not installed: trigger an on-demand "
            "assessment to install it."
        )
    broken = [e for e in extensions if provisioning_state(e).lower() != "succeeded"]
    if broken:
        return EXTENSION_DOC, (
            f"{wanted.full_name} is {provisioning_state(broken[0]) or 'in no provisioning state'} "
            "(playbook update-extension removes and reinstalls it)."
        )
    if os_name == "linux":
        return AUTO_ASSESS_DOC, LINUX_SERVICE_CHECK
    return GENERAL_DOC, WINDOWS_CHECK


def detect(ctx: Context) -> Iterable[Finding]:
    limit = CYCLE + timedelta(hours=float(ctx.option("grace_hours", 12)))
    now = ctx.estate.now
    coverage = PolicyCoverage(ctx)
    for machine in machines(ctx.estate):
        os_name = machine_os(machine)
        if not os_name or _not_running(machine):
            continue
        if not (periodic_assessment_on(machine, os_name) or coverage.covers(machine, os_name)):
            continue
        latest = latest_assessment(ctx.estate, machine)
        last = result_time(latest) if latest is not None else None
        created = _created(machine)
        if last is not None:
            if now - last <= limit:
                continue
            what = f"its last assessment is from {last:%Y-%m-%d %H:%M} UTC, {_hours(now - last)} hours ago"
        elif created is not None and now - created > limit:
            what = f"it has no assessment on record although it was created {created:%Y-%m-%d %H:%M} UTC"
        else:
            continue  # never assessed and new (or of unknown age): nothing is overdue yet
        doc, cause = _cause(ctx, machine, os_name)
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="medium",
            title=f"{machine.name}: periodic assessment stopped",
            detail=(
                f"Periodic assessment is on for {machine.name}, which is assessed every 24 hours, but {what} "
                f"(allowed: {_hours(limit)} hours). {cause}"
            ),
            doc=doc,
            fixable=False,
            data={
                "last_assessment": last.isoformat() if last else None,
                "time_created": created.isoformat() if created else None,
                "limit_hours": _hours(limit),
            },
        )


def _hours(span: timedelta) -> int:
    return int(span.total_seconds() // 3600)


def _not_running(machine: Resource) -> bool:
    if is_vm(machine):
        return power_state(machine).lower() in NOT_RUNNING
    status = str(machine.properties.get("status") or "")
    return bool(status) and status.lower() != "connected"


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Periodic assessment on, but the last assessment is overdue or never came",
        doc=AUTO_ASSESS_DOC,
        severity="medium",
        detect=detect,
        needs=Needs(
            resource_types=frozenset(
                {*MACHINE_TYPES, VM_ASSESSMENT, ARC_ASSESSMENT, VM_EXTENSION, ARC_EXTENSION, POLICY_ASSIGNMENT}
            ),
            providers=frozenset({"Microsoft.Compute"}),
            policy_states=True,
        ),
        read_permissions=(*result_reads("patchAssessmentResults"), "Microsoft.Authorization/policyAssignments/read"),
        fix_default=False,
        phase=90,
        options_schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {"grace_hours": {"type": "number", "minimum": 0}},
        },
    )
)
