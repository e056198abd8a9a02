"""schedule-prerequisites: every Azure VM a schedule targets must be on Customer Managed Schedules.

troubleshoot.md "Prerequisite for scheduled patching isn't set correctly" and
prerequsite-for-schedule-patching.md: a VM under a schedule needs ``patchMode:
AutomaticByPlatform`` and ``bypassPlatformSafetyChecksOnUserSchedule: true``, or the schedule
fails with "prerequisites aren't met" (scenarios 3, 5, 7). The VMs are those a non-expired
InGuestPatch configuration reaches, statically or through a dynamic scope's filter. Arc machines
have no such prerequisite (manage-dynamic-scoping.md). A hotpatch VM is reported, not changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator import Change, Context, Finding, Needs, Playbook, register

from ._maintenance_model import MAINTENANCE_RESOURCE_TYPES, VM_TYPE, view_of
from ._maintenance_patch import (
    PATCH_ACTION,
    PATCH_PERMISSIONS,
    patch_settings,
    plan_customer_managed,
    why_not_fixable,
)

PLAYBOOK_ID = "schedule-prerequisites"
DOC = "troubleshoot.md#prerequisite-for-scheduled-patching-isnt-set-correctly"


def detect(ctx: Context) -> Iterable[Finding]:
    view = view_of(ctx)
    for machine, attached in view.scheduled_machines():
        if machine.type_key != VM_TYPE:
            continue
        settings = patch_settings(machine)
        if settings.customer_managed:
            continue
        blocker = why_not_fixable(settings)
        schedules = sorted({a.configuration.resource.name for a in attached})
        how = ", ".join(a.describe() for a in attached)
        detail = (
            f"{machine.name} is scheduled by {how} but has {settings.describe()}; scheduled patching "
            "needs patchMode=AutomaticByPlatform and bypassPlatformSafetyChecksOnUserSchedule=true "
            "(Customer Managed Schedules), otherwise the schedule fails with 'prerequisites aren't met'. "
        )
        detail += (
            f"Not fixed automatically: {blocker}."
            if blocker
            else "Fix: a PATCH of only the VM's patch settings, to Customer Managed Schedules."
        )
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=machine.id,
            severity="high",
            title=f"{machine.name}: scheduled, but patch orchestration is not Customer Managed Schedules",
            detail=detail,
            doc=DOC,
            fixable=not blocker,
            data={
                "schedules": schedules,
                "os": settings.os,
                "patchMode": settings.patch_mode,
                "bypassPlatformSafetyChecksOnUserSchedule": settings.bypass,
                "hotpatching": settings.hotpatching,
            },
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    return plan_customer_managed(ctx.estate.get(finding.resource_id), finding)


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Scheduled VMs must use Customer Managed Schedules (AutomaticByPlatform + bypass)",
        doc=DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=MAINTENANCE_RESOURCE_TYPES),
        permissions=PATCH_PERMISSIONS,
        fix_default=True,
        phase=40,
        options_schema={"type": "object", "additionalProperties": False, "properties": {}},
    )
)

__all__ = ["PATCH_ACTION", "PLAYBOOK"]
