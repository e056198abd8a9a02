"""Patch-orchestration settings of an Azure VM, and the PATCH that sets "Customer Managed Schedules".

Customer Managed Schedules is ``patchMode: AutomaticByPlatform`` plus
``automaticByPlatformSettings.bypassPlatformSafetyChecksOnUserSchedule: true`` under
``osProfile.windowsConfiguration.patchSettings`` or ``osProfile.linuxConfiguration.patchSettings``
(prerequsite-for-schedule-patching.md). Windows also needs ``enableAutomaticUpdates: true`` for
AutomaticByPlatform (the article's REST body sets it), so the change carries it when it is false.

The change names every field it touches by its JSON path (``params.paths``); the
``patch-patch-settings`` action reads and writes exactly those paths and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediator import Change, Finding, Resource

from ._maintenance_model import COMPUTE_API_VERSION, dig, os_type

PATCH_ACTION = "patch-patch-settings"
PATCH_PERMISSIONS = ("Microsoft.Compute/virtualMachines/write",)
BYPASS = "bypassPlatformSafetyChecksOnUserSchedule"


@dataclass(frozen=True)
class PatchSettings:
    os: str  # Windows | Linux | ""
    configuration_key: str  # windowsConfiguration | linuxConfiguration | ""
    patch_mode: str | None
    bypass: bool | None
    enable_automatic_updates: bool | None
    provision_vm_agent: bool | None
    hotpatching: bool

    @property
    def customer_managed(self) -> bool:
        return self.patch_mode == "AutomaticByPlatform" and self.bypass is True

    @property
    def path(self) -> str:
        return f"properties.osProfile.{self.configuration_key}"

    def describe(self) -> str:
        return f"patchMode={self.patch_mode or 'unset'}, {BYPASS}={self.bypass if self.bypass is not None else 'unset'}"


def patch_settings(vm: Resource) -> PatchSettings:
    os_name = os_type(vm)
    key = {"Windows": "windowsConfiguration", "Linux": "linuxConfiguration"}.get(os_name, "")
    os_profile = dig(vm.properties, "osProfile")
    config: Any = dig(os_profile, key) if key else None
    settings = dig(config, "patchSettings") or {}
    bypass = dig(settings, "automaticByPlatformSettings", BYPASS)
    automatic_updates = dig(config, "enableAutomaticUpdates")
    agent = dig(config, "provisionVMAgent")
    return PatchSettings(
        os=os_name,
        # A Windows/Linux configuration block that an export left out can still be PATCHed into place.
        configuration_key=key if isinstance(os_profile, dict) else "",
        patch_mode=settings.get("patchMode"),
        bypass=bypass if isinstance(bypass, bool) else None,
        enable_automatic_updates=automatic_updates if isinstance(automatic_updates, bool) else None,
        provision_vm_agent=agent if isinstance(agent, bool) else None,
        hotpatching=settings.get("enableHotpatching") is True,
    )


def why_not_fixable(settings: PatchSettings) -> str:
    """Why the PATCH cannot be made, or "" when it can."""
    if not settings.os:
        return "the VM's OS type is unknown (no storageProfile.osDisk.osType and no OS configuration)"
    if not settings.configuration_key:
        return (
            "the VM has no osProfile (a specialized or attached-disk VM), so its patch settings "
            "cannot be set through the API; recreate it from a generalized image or patch it on demand"
        )
    if settings.provision_vm_agent is False:
        return "the VM agent was not provisioned (provisionVMAgent=false), which AutomaticByPlatform requires"
    if settings.hotpatching:
        return (
            "hotpatching is enabled on this VM: a hotpatch VM cannot take "
            f"{BYPASS}; move it off the schedule or disable hotpatching first"
        )
    return ""


def customer_managed_change(finding: Finding, vm: Resource, settings: PatchSettings) -> Change:
    """The PATCH that sets Customer Managed Schedules, touching only the fields it names."""
    base = settings.path
    paths = {
        "patchMode": f"{base}.patchSettings.patchMode",
        BYPASS: f"{base}.patchSettings.automaticByPlatformSettings.{BYPASS}",
    }
    before: dict[str, Any] = {"patchMode": settings.patch_mode, BYPASS: settings.bypass}
    after: dict[str, Any] = {"patchMode": "AutomaticByPlatform", BYPASS: True}
    if settings.os == "Windows" and settings.enable_automatic_updates is not True:
        paths["enableAutomaticUpdates"] = f"{base}.enableAutomaticUpdates"
        before["enableAutomaticUpdates"] = settings.enable_automatic_updates
        after["enableAutomaticUpdates"] = True
    return Change(
        finding_id=finding.id,
        playbook=finding.playbook,
        resource_id=vm.id,
        action=PATCH_ACTION,
        before=before,
        after=after,
        params={"paths": paths, "api_version": COMPUTE_API_VERSION},
    )


def plan_customer_managed(vm: Resource | None, finding: Finding) -> tuple[Change, ...]:
    """The Customer Managed Schedules PATCH for ``vm``, unless it already has them or cannot take them."""
    if vm is None:
        return ()
    settings = patch_settings(vm)
    if settings.customer_managed or why_not_fixable(settings):
        return ()
    return (customer_managed_change(finding, vm, settings),)
