"""What the extension playbooks read from the estate: machines, their update extensions, their
latest patch assessment, and what stops extension operations on them. Pure functions only.

Which extension Update Manager uses where (prerequisites.md, "VM extensions"):

=================  =======  ==============================================================
machine            OS       extension (publisher.type)
=================  =======  ==============================================================
Azure VM           Windows  Microsoft.CPlat.Core.WindowsPatchExtension
Azure VM           Linux    Microsoft.CPlat.Core.LinuxPatchExtension
Arc-enabled server Windows  Microsoft.SoftwareUpdateManagement.WindowsOsUpdateExtension
                            (on-demand and scheduled), Microsoft.CPlat.Core.WindowsPatchExtension
                            (periodic assessment)
Arc-enabled server Linux    Microsoft.SoftwareUpdateManagement.LinuxOsUpdateExtension
                            (on-demand and scheduled), Microsoft.CPlat.Core.LinuxPatchExtension
                            (periodic assessment)
=================  =======  ==============================================================

Extensions are recognised by ``properties.publisher`` and ``properties.type``, never by name: the
portal, policies and templates name them differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from remediator import Estate, Resource

VM = "microsoft.compute/virtualmachines"
ARC = "microsoft.hybridcompute/machines"
VM_EXTENSION = VM + "/extensions"
ARC_EXTENSION = ARC + "/extensions"
VM_ASSESSMENT = VM + "/patchassessmentresults"
ARC_ASSESSMENT = ARC + "/patchassessmentresults"
VM_INSTALLATION = VM + "/patchinstallationresults"
ARC_INSTALLATION = ARC + "/patchinstallationresults"
MACHINE_TYPES = (VM, ARC)

AUTOMATIC_BY_PLATFORM = "automaticbyplatform"
TRANSIENT_STATES = frozenset({"creating", "updating", "deleting"})
NOT_RUNNING = frozenset({"powerstate/deallocated", "powerstate/deallocating", "powerstate/stopped"})
AUTO_ASSESS_SERVICE = "MsftLinuxPatchAutoAssess"


@dataclass(frozen=True)
class ExtensionKind:
    publisher: str
    type: str

    @property
    def full_name(self) -> str:
        return f"{self.publisher}.{self.type}"

    def matches(self, extension: Resource) -> bool:
        props = extension.properties
        return (
            str(props.get("publisher", "")).lower() == self.publisher.lower()
            and str(props.get("type", "")).lower() == self.type.lower()
        )

    def to_json(self) -> dict[str, str]:
        return {"publisher": self.publisher, "type": self.type}


CPLAT = "Microsoft.CPlat.Core"
SOFTWARE_UPDATE_MANAGEMENT = "Microsoft.SoftwareUpdateManagement"
PATCH_EXTENSION = {
    "windows": ExtensionKind(CPLAT, "WindowsPatchExtension"),
    "linux": ExtensionKind(CPLAT, "LinuxPatchExtension"),
}
OS_UPDATE_EXTENSION = {
    "windows": ExtensionKind(SOFTWARE_UPDATE_MANAGEMENT, "WindowsOsUpdateExtension"),
    "linux": ExtensionKind(SOFTWARE_UPDATE_MANAGEMENT, "LinuxOsUpdateExtension"),
}
ALL_KINDS = (*PATCH_EXTENSION.values(), *OS_UPDATE_EXTENSION.values())


def dig(obj: Any, *path: str) -> Any:
    for step in path:
        obj = obj.get(step) if isinstance(obj, Mapping) else None
    return obj


def is_vm(machine: Resource) -> bool:
    return machine.type_key == VM


def machines(estate: Estate) -> tuple[Resource, ...]:
    return estate.of_type(*MACHINE_TYPES)


def machine_os(machine: Resource) -> str:
    """``windows``, ``linux`` or ``""`` (Compute keeps it on the OS disk, HybridCompute at the top)."""
    props = machine.properties
    found = dig(props, "storageProfile", "osDisk", "osType") or props.get("osType")
    if not found:
        if dig(props, "osProfile", "windowsConfiguration") is not None:
            found = "windows"
        elif dig(props, "osProfile", "linuxConfiguration") is not None:
            found = "linux"
    text = str(found or "").lower()
    return text if text in ("windows", "linux") else ""


def patch_settings(machine: Resource, os_name: str) -> Mapping[str, Any]:
    key = "windowsConfiguration" if os_name == "windows" else "linuxConfiguration"
    found = dig(machine.properties, "osProfile", key, "patchSettings")
    return found if isinstance(found, Mapping) else {}


def periodic_assessment_on(machine: Resource, os_name: str) -> bool:
    return str(patch_settings(machine, os_name).get("assessmentMode", "")).lower() == AUTOMATIC_BY_PLATFORM


def on_demand_installs(machine: Resource, os_name: str) -> tuple[ExtensionKind, ...]:
    """What an on-demand assessment installs: Azure VMs the patch extension; Arc machines the OS
    update extension, plus the patch extension when periodic assessment is on."""
    if is_vm(machine):
        return (PATCH_EXTENSION[os_name],)
    kinds = [OS_UPDATE_EXTENSION[os_name]]
    if periodic_assessment_on(machine, os_name):
        kinds.append(PATCH_EXTENSION[os_name])
    return tuple(kinds)


def required_extensions(
    estate: Estate, machine: Resource, os_name: str, *, all_machines: bool = False
) -> tuple[ExtensionKind, ...]:
    """The update extensions the machine should have by now.

    Azure installs them itself, at the first assessment or patch run (troubleshoot.md, "... extension
    isn't installed": "Trigger an on-demand assessment or patching to install the extension ... or
    attach the machine to a maintenance configuration schedule, which will install the extension
    when patching is performed"). So a missing extension is a failure only once such a run is on
    record — an assessment or an installation result — and never on a machine Azure has had no
    reason to touch yet (a new VM, one never assessed: that is stale-assessment's signal, with its
    own clock). Azure VM: the patch extension. Arc: the OS update extension once a user ran an
    on-demand operation or an installation ran; the patch extension once periodic assessment is on
    and an assessment is on record. ``all_machines`` treats every machine as owing them.
    """
    latest = latest_assessment(estate, machine)
    patched = bool(installation_results(estate, machine))
    if is_vm(machine):
        return (PATCH_EXTENSION[os_name],) if all_machines or latest is not None or patched else ()
    kinds: list[ExtensionKind] = []
    started_by_user = latest is not None and str(latest.properties.get("startedBy", "")).lower() == "user"
    if all_machines or started_by_user or patched:
        kinds.append(OS_UPDATE_EXTENSION[os_name])
    if all_machines or (periodic_assessment_on(machine, os_name) and latest is not None):
        kinds.append(PATCH_EXTENSION[os_name])
    return tuple(kinds)


def installation_results(estate: Estate, machine: Resource) -> tuple[Resource, ...]:
    return estate.children(machine.id, VM_INSTALLATION if is_vm(machine) else ARC_INSTALLATION)


def extension_kind(extension: Resource) -> ExtensionKind | None:
    return next((kind for kind in ALL_KINDS if kind.matches(extension)), None)


def update_extensions(estate: Estate, machine: Resource) -> tuple[Resource, ...]:
    """The machine's Update Manager extensions (any of the four kinds), as the estate holds them."""
    child_type = VM_EXTENSION if is_vm(machine) else ARC_EXTENSION
    return tuple(e for e in estate.children(machine.id, child_type) if extension_kind(e) is not None)


def provisioning_state(resource: Resource) -> str:
    return str(resource.properties.get("provisioningState") or "")


def latest_assessment(estate: Estate, machine: Resource) -> Resource | None:
    child_type = VM_ASSESSMENT if is_vm(machine) else ARC_ASSESSMENT
    found = [r for r in estate.children(machine.id, child_type) if r.id.lower().endswith("/latest")]
    return found[0] if found else None


def power_state(machine: Resource) -> str:
    """Resource Graph's ``properties.extended.instanceView.powerState.code`` (or ARM's statuses)."""
    code = dig(machine.properties, "extended", "instanceView", "powerState", "code")
    if code:
        return str(code)
    for status in dig(machine.properties, "instanceView", "statuses") or ():
        if isinstance(status, Mapping) and str(status.get("code", "")).startswith("PowerState/"):
            return str(status["code"])
    return ""


def extension_operations_blocked(machine: Resource) -> str:
    """Why ARM would refuse extension operations on this machine now ("" when it would not)."""
    if is_vm(machine):
        if dig(machine.properties, "osProfile", "allowExtensionOperations") is False:
            return "osProfile.allowExtensionOperations is false (playbook extension-operations)"
        state = power_state(machine)
        if state.lower() in NOT_RUNNING:
            stopped = state.split("/")[-1]
            return f"the VM is {stopped}; extension operations need it running (playbook powered-off-machines)"
        return ""
    status = str(machine.properties.get("status") or "")
    if status and status.lower() != "connected":
        return f"the Arc-enabled server is {status}; extension operations need the Connected Machine agent connected"
    enabled = dig(machine.properties, "agentConfiguration", "extensionsEnabled")
    if str(enabled).lower() == "false":
        return "extensions are disabled in the Connected Machine agent's configuration (playbook extension-operations)"
    return ""


def error_texts(value: Any) -> list[str]:
    """Every ``code: message`` in an errorDetails / error value (an ARM error, a list, or strings)."""
    out: list[str] = []
    _collect(value, out)
    return out


def _collect(value: Any, out: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, str):
        if value.strip():
            out.append(value.strip())
        return
    if isinstance(value, Mapping):
        code = str(value.get("code") or "").strip()
        message = str(value.get("message") or "").strip()
        if code or message:
            out.append(f"{code}: {message}" if code and message else code or message)
        for nested in ("details", "innererror", "error"):
            _collect(value.get(nested), out)
        return
    if isinstance(value, Iterable):
        for item in value:
            _collect(item, out)


def result_errors(result: Resource) -> list[str]:
    """The error texts of an assessment or installation result (both carry ``errorDetails``)."""
    props = result.properties
    return error_texts(props.get("errorDetails")) + error_texts(props.get("error"))


assessment_errors = result_errors


def assessment_failed(result: Resource) -> bool:
    """Failed, or finished with errors ("Not assessed" in the portal's compliance view)."""
    status = str(result.properties.get("status") or "").lower()
    if status == "failed":
        return True
    # Resource Graph rows may lack ``status`` (query-logs.md does not list it): errors decide then.
    return status in ("", "completedwithwarnings", "unknown") and bool(assessment_errors(result))


def extension_status_texts(extension: Resource) -> list[str]:
    """The messages of an extension's instance view: Arc's ``status``, Compute's ``statuses`` and
    ``substatuses`` (Resource Graph carries the Arc one; ARM's ``$expand=instanceView`` both)."""
    view = extension.properties.get("instanceView")
    if not isinstance(view, Mapping):
        return []
    entries: list[Any] = [view.get("status"), *(view.get("statuses") or ()), *(view.get("substatuses") or ())]
    texts: list[str] = []
    for entry in entries:
        if isinstance(entry, Mapping):
            texts.extend(str(entry[k]) for k in ("message", "displayStatus") if entry.get(k))
    return texts


def mentions_auto_assess(result: Resource | None, extensions: Iterable[Resource] = ()) -> bool:
    """Does the latest assessment, or an update extension's status, blame MsftLinuxPatchAutoAssess?"""
    texts = assessment_errors(result) if result is not None else []
    for extension in extensions:
        texts.extend(extension_status_texts(extension))
    return any(AUTO_ASSESS_SERVICE.lower() in text.lower() for text in texts)
