"""patch-orchestration-manual: owners who want no automatic patching get Customer Managed Schedules.

troubleshoot.md "You can't change patch orchestration from automatic to manual": a Windows VM
created with ``AutomaticByOS`` cannot be switched to Manual with "Change update settings" (the
Windows Update client would keep installing on its own schedule). What the article prescribes
instead is Customer Managed Schedules (``AutomaticByPlatform`` +
``bypassPlatformSafetyChecksOnUserSchedule``) with no schedule attached: then nothing patches
the machine until someone changes it.

Opt-in twice over: only machines selected by the ``tag`` (default ``aum-patching``) with the value
``tag_value`` (default ``manual``), or listed in ``machines``, are considered; and the fix is off
unless enabled. A selected machine that still has a schedule attached is reported, not changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator import Change, Context, Finding, Needs, Playbook, Resource, register

from ._maintenance_model import MAINTENANCE_RESOURCE_TYPES, VM_TYPE, options_schema, view_of
from ._maintenance_patch import PATCH_PERMISSIONS, patch_settings, plan_customer_managed, why_not_fixable

PLAYBOOK_ID = "patch-orchestration-manual"
DOC = "troubleshoot.md#you-cant-change-patch-orchestration-from-automatic-to-manual"
WHY = (
    "Manual cannot be set on an existing VM that uses automatic orchestration ('Change update settings' "
    "refuses it); the documented alternative is Customer Managed Schedules (patchMode AutomaticByPlatform with "
    "bypassPlatformSafetyChecksOnUserSchedule=true) and no schedule attached, so nothing patches the machine "
    "until it is changed explicitly."
)


def selected(ctx: Context, machine: Resource) -> bool:
    listed = {str(m).lower() for m in ctx.option("machines", [])}
    if machine.key in listed:
        return True
    tag = str(ctx.option("tag", "aum-patching")).lower()
    value = str(ctx.option("tag_value", "manual")).lower()
    return any(k.lower() == tag and str(v).lower() == value for k, v in machine.tags.items())


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx)
    for machine in ctx.estate.of_type(VM_TYPE):
        if not selected(ctx, machine):
            continue
        settings = patch_settings(machine)
        attached = view.active_attachments(machine)
        automatic = settings.patch_mode == "AutomaticByOS" or (
            settings.patch_mode == "AutomaticByPlatform" and settings.bypass is not True
        )
        if attached:
            names = ", ".join(a.describe() for a in attached)
            yield Finding(
                playbook=PLAYBOOK_ID,
                resource_id=machine.id,
                severity="medium",
                title=f"{machine.name} is marked for no automatic patching but is under a schedule",
                detail=f"{machine.name} is scheduled by {names}, so it will be patched. Remove it from "
                f"these schedules (assignment or dynamic-scope filter) to stop patching. {WHY}",
                doc=DOC,
                fixable=False,
                key="scheduled",
                data={"schedules": [a.configuration.id for a in attached]},
            )
            continue
        if not automatic:
            continue
        blocker = why_not_fixable(settings)
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="medium",
            title=f"{machine.name} is still patched automatically ({settings.patch_mode})",
            detail=f"{machine.name} has {settings.describe()} and is marked for no automatic patching. {WHY} "
            + (f"Not fixed automatically: {blocker}." if blocker else "The fix sets Customer Managed Schedules."),
            doc=DOC,
            fixable=not blocker,
            key="automatic",
            data={"patchMode": settings.patch_mode, "bypassPlatformSafetyChecksOnUserSchedule": settings.bypass},
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    if finding.key != "automatic":
        return ()
    return plan_customer_managed(ctx.estate.get(finding.resource_id), finding)


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Machines wanting no automatic patching get Customer Managed Schedules without a schedule",
        doc=DOC,
        severity="medium",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        permissions=PATCH_PERMISSIONS,
        fix_default=False,
        phase=40,
        options_schema=options_schema(
            tag={"type": "string", "minLength": 1},
            tag_value={"type": "string"},
            machines={"type": "array", "items": {"type": "string", "pattern": "^/"}},
        ),
    )
)
