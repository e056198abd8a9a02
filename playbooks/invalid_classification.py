"""invalid-classification: a maintenance configuration names a patch classification that does not exist.

troubleshoot-maintenance-configurations.md, "Install patch operation fails for invalid
classification type": an earlier service bug let configurations be saved with an invalid
classification; the install operation of such a configuration fails, and the resolution is to
update the configuration with correct classifications. The allowed values are the
Microsoft.Maintenance 2023-04-01 spec's (``InputWindowsParameters`` / ``InputLinuxParameters``
``classificationsToInclude``): Windows Critical, Security, UpdateRollup, FeaturePack, ServicePack,
Definition, Tools, Updates; Linux Critical, Security, Other.

The opt-in fix keeps the valid classifications and drops the invalid ones (a value that differs
only in case is the valid one, spelled as the spec does). Dropping changes what gets installed,
hence opt-in. A list with no valid value left is reported, not planned: which classifications to
install then is the owner's choice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from remediator import Change, Context, Finding, Needs, Playbook, register

from ._maintenance_model import CONFIGURATION_TYPE

PLAYBOOK_ID = "invalid-classification"
DOC = "troubleshoot-maintenance-configurations.md#install-patch-operation-fails-for-invalid-classification-type"
ALLOWED: Mapping[str, tuple[str, ...]] = {
    "windows": ("Critical", "Security", "UpdateRollup", "FeaturePack", "ServicePack", "Definition", "Tools", "Updates"),
    "linux": ("Critical", "Security", "Other"),
}
PARAMETERS = {"windows": "windowsParameters", "linux": "linuxParameters"}


def _listed(properties: Mapping[str, Any], os_name: str) -> list[str] | None:
    params = (properties.get("installPatches") or {}).get(PARAMETERS[os_name])
    if not isinstance(params, Mapping):
        return None
    found = params.get("classificationsToInclude")
    return [str(v) for v in found] if isinstance(found, list) else None


def _correct(values: list[str], os_name: str) -> tuple[list[str], list[str]]:
    """(the valid values in the spec's spelling, the invalid ones)."""
    canonical = {a.lower(): a for a in ALLOWED[os_name]}
    kept = list(dict.fromkeys(canonical[v.lower()] for v in values if v.lower() in canonical))
    return kept, [v for v in values if v.lower() not in canonical]


def detect(ctx: Context) -> Iterable[Finding]:
    for config in ctx.estate.of_type(CONFIGURATION_TYPE):
        props = config.properties
        if str(props.get("maintenanceScope") or "").lower() != "inguestpatch":
            continue
        before: dict[str, list[str]] = {}
        after: dict[str, list[str]] = {}
        invalid: dict[str, list[str]] = {}
        for os_name in ("windows", "linux"):
            values = _listed(props, os_name)
            if values is None:
                continue
            kept, bad = _correct(values, os_name)
            if bad:
                before[os_name], after[os_name], invalid[os_name] = values, kept, bad
        if not invalid:
            continue
        empty = [os_name for os_name, kept in after.items() if not kept]
        listing = "; ".join(f"{os_name}: {', '.join(bad)}" for os_name, bad in invalid.items())
        allowed = "; ".join(f"{os_name}: {', '.join(ALLOWED[os_name])}" for os_name in invalid)
        how = (
            f"No valid classification is left for {', '.join(empty)}: choose the classifications to install and "
            "update the configuration."
            if empty
            else "The fix (opt-in) keeps the valid classifications and drops the invalid ones."
        )
        yield Finding(
            playbook=PLAYBOOK_ID,
            resource_id=config.id,
            severity="high",
            title=f"{config.name}: invalid patch classification ({listing})",
            detail=(
                f"Maintenance configuration {config.name} includes classifications that do not exist ({listing}); "
                f"its install-patch operation fails. Allowed: {allowed}. Update the configuration with correct "
                f"classifications. {how}"
            ),
            doc=DOC,
            fixable=not empty,
            data={"before": before, "after": after, "invalid": invalid},
        )


def plan(ctx: Context, finding: Finding) -> Iterable[Change]:
    if not finding.fixable:
        return
    yield Change(
        finding_id=finding.id,
        playbook=PLAYBOOK_ID,
        resource_id=finding.resource_id,
        action="set-patch-classifications",
        before=dict(finding.data["before"]),
        after=dict(finding.data["after"]),
    )


PLAYBOOK = register(
    Playbook(
        id=PLAYBOOK_ID,
        title="Maintenance configurations must name only valid patch classifications",
        doc=DOC,
        severity="high",
        detect=detect,
        plan=plan,
        needs=Needs(resource_types=frozenset({CONFIGURATION_TYPE})),
        permissions=("Microsoft.Maintenance/maintenanceConfigurations/write",),
        read_permissions=("Microsoft.Maintenance/maintenanceConfigurations/read",),
        fix_default=False,
        phase=40,
    )
)
