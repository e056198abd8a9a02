"""extension-operations: extensions are disallowed on the machine, so Update Manager cannot work.

troubleshoot.md, "Extension check fails": ``osProfile.allowExtensionOperations`` is false; the
resolution is to set it to true. The fix PATCHes that one field of the VM and nothing else.

Why the fix is opt-in (``fix: true`` for this playbook in the config): the property is not an
Update Manager setting. It allows or forbids *every* VM extension — Custom Script, Run Command,
anything with the permission to install one — and the people who turn it off do it on purpose,
as hardening. Turning it back on widens what can run on the machine far beyond patching, so the
bot reports it (with the documented resolution) and only changes it when told to.

Arc-enabled servers have the same switch in the Connected Machine agent's local configuration
(``agentConfiguration.extensionsEnabled``); ARM cannot change it, so it is reported with the
command to run on the machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from remediator import Change, Context, Finding, Needs, Playbook, Resource, register

from ._extension_model import (
    ARC,
    AUTOMATIC_BY_PLATFORM,
    VM,
    dig,
    machine_os,
    patch_settings,
)

PLAYBOOK_ID = "extension-operations"
DOC = "troubleshoot.md#extension-check-fails"
SET_ORDER = 30


def _uses_update_manager(machine: Resource) -> bool:
    os_name = machine_os(machine)
    if not os_name:
        return False
    settings: Mapping[str, Any] = patch_settings(machine, os_name)
    return AUTOMATIC_BY_PLATFORM in (
        str(settings.get("patchMode", "")).lower(),
        str(settings.get("assessmentMode", "")).lower(),
    )


def detect(ctx: Context) -> Iterable[Finding]:
    for vm in ctx.estate.of_type(VM):
        if dig(vm.properties, "osProfile", "allowExtensionOperations") is not False:
            continue
        patched = _uses_update_manager(vm)
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=vm.id,
            severity="high" if patched else "medium",
            title="Extension operations are disallowed on the VM (allowExtensionOperations is false)",
            detail=(
                "Update Manager installs and runs its patch extension on the VM; with "  # nosec B608
                "osProfile.allowExtensionOperations false the extension check fails and there is no assessment "
                "or patching"
                + (" although the VM's patch settings hand patching to the platform" if patched else "")
                + ". Resolution: set allowExtensionOperations to true. That re-enables every VM extension, not "
                "only Update Manager's: make sure it was not turned off on purpose."
            ),
            doc=DOC,
            fixable=True,
            data={"allowExtensionOperations": False},
        )
    for machine in ctx.estate.of_type(ARC):
        enabled = dig(machine.properties, "agentConfiguration", "extensionsEnabled")
        if str(enabled).lower() != "false":
            continue
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="high" if _uses_update_manager(machine) else "medium",
            title="Extensions are disabled in the Arc-enabled server's Connected Machine agent",
            detail=(
                "Update Manager needs its OS update extension on the machine, and the agent's configuration "
                "forbids extensions. Manual resolution on the machine (ARM cannot change the agent's local "
                "configuration): `azcmagent config set extensions.enabled true`, or allow the update extensions "
                "in extensions.allowlist."
            ),
            doc=DOC,
            fixable=False,
            data={"extensionsEnabled": str(enabled)},
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    yield Change(
        finding_id=finding.id,
        playbook=PLAYBOOK_ID,
        resource_id=finding.resource_id,
        action="set-allow-extension-operations",
        before={"allowExtensionOperations": False},
        after={"allowExtensionOperations": True},
        order=SET_ORDER,
    )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Extension operations must be allowed on machines Update Manager patches",
        doc=DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=frozenset({VM, ARC})),
        permissions=("Microsoft.Compute/virtualMachines/write",),
        read_permissions=("Microsoft.Compute/virtualMachines/read", "Microsoft.HybridCompute/machines/read"),
        fix_default=False,
        # Before update-extension: its delete and assessment are refused while this is false.
        phase=45,
    )
)
