"""A mixed fleet none of the playbooks' own tests use: every maintenance failure at once, plus healthy machines.

Shapes as a Resource Graph export gives them (lowercase types, ``extended`` power state on VMs),
which the emulator normalises on load. The clock is Thursday 2026-11-26 09:00 UTC.

Expected (``EXPECTED``): which playbook flags which machine or configuration, and which of
those findings an apply fixes. Everything else in the fleet is healthy and must not be flagged.
"""

from __future__ import annotations

from typing import Any

from tests.data.maintenance.estates import (
    SUB_A,
    SUB_B,
    apply_update,
    arc,
    assignment,
    configuration,
    estate,
    group,
    installation_result,
    vm,
)


def _graph_shape(resource: dict[str, Any]) -> dict[str, Any]:
    out = dict(resource, type=str(resource["type"]).lower())
    props = dict(out.get("properties") or {})
    view = props.pop("instanceView", None)
    if view:
        code = next(s["code"] for s in view["statuses"] if s["code"].startswith("PowerState/"))
        props["extended"] = {"instanceView": {"powerState": {"code": code}}}
    out["properties"] = props
    return out


def _id(resource: dict[str, Any]) -> str:
    return str(resource["id"])


def fleet() -> dict[str, Any]:
    web_nightly = configuration(
        SUB_A,
        "rg-maint",
        "web-nightly",
        start="2026-01-01 23:00",
        time_zone="W. Europe Standard Time",
        duration="03:00",
    )
    web_hotfix = configuration(SUB_A, "rg-maint", "web-hotfix", start="2026-01-01 22:30", duration="01:30")
    db_weekly = configuration(
        SUB_A,
        "rg-maint",
        "db-weekly",
        start="2026-01-01 20:00",
        time_zone="Eastern Standard Time",
        recur="Week Thursday",
        duration="02:00",
    )
    db_month_end = configuration(
        SUB_A, "rg-maint", "db-month-end", start="2026-01-31 23:30", recur="Month day-1", duration="01:30"
    )
    quick = configuration(
        SUB_A,
        "rg-maint",
        "quick",
        start="2026-01-01 05:00",
        time_zone="Tokyo Standard Time",
        recur="Month Second Tuesday Offset2",
        duration="01:00",
    )
    legacy = configuration(SUB_A, "rg-maint", "legacy", expiration="2026-03-31 00:00")

    web1 = vm(SUB_A, "rg-web", "web1", tags={"role": "web"})
    web2 = vm(SUB_A, "rg-web", "web2", os="Linux", patch_mode="ImageDefault", bypass=None, tags={"role": "web"})
    web3 = vm(SUB_A, "rg-web", "web3", patch_mode="AutomaticByOS", bypass=None, tags={"role": "web"}, location="eastus")
    hot1 = vm(
        SUB_A, "rg-web", "hot1", patch_mode="AutomaticByPlatform", bypass=False, hotpatch=True, tags={"role": "web"}
    )
    arc1 = arc(SUB_A, "rg-web", "arc1", status="Disconnected", tags={"role": "web"})
    db1 = vm(SUB_A, "rg-db", "db1", patch_mode="AutomaticByPlatform", bypass=False, power="deallocated")
    db2 = vm(SUB_A, "rg-db", "db2", os="Linux")
    db3 = vm(SUB_B, "rg-moved", "db3", patch_mode="AutomaticByOS", bypass=None)
    old_db3 = f"/subscriptions/{SUB_A}/resourceGroups/rg-db/providers/Microsoft.Compute/virtualMachines/db3"
    util1 = vm(SUB_A, "rg-db", "util1")
    old1 = vm(SUB_A, "rg-db", "old1", patch_mode="AutomaticByOS", bypass=None)
    rebuilt = vm(
        SUB_A, "rg-db", "rebuilt", patch_mode="AutomaticByPlatform", bypass=False, time_created="2026-11-25T20:00:00Z"
    )
    dev1 = vm(SUB_B, "rg-dev", "dev1", patch_mode="AutomaticByOS", bypass=None, tags={"aum-patching": "manual"})
    dev2 = vm(SUB_B, "rg-dev", "dev2", patch_mode="AutomaticByOS", bypass=None)

    resources = [
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-web"),
        group(SUB_A, "rg-db"),
        group(SUB_B, "rg-moved"),
        group(SUB_B, "rg-dev"),
        web_nightly,
        web_hotfix,
        db_weekly,
        db_month_end,
        quick,
        legacy,
        web1,
        web2,
        web3,
        hot1,
        arc1,
        db1,
        db2,
        db3,
        util1,
        old1,
        rebuilt,
        dev1,
        dev2,
        assignment(
            f"/subscriptions/{SUB_A}",
            web_nightly,
            name="web-role",
            filter_={
                "resourceTypes": ["microsoft.compute/virtualmachines", "microsoft.hybridcompute/machines"],
                "locations": ["West Europe"],
                "tagSettings": {"tags": {"role": ["web"]}, "filterOperator": "All"},
            },
        ),
        assignment(_id(web2), web_hotfix),
        assignment(_id(db1), db_weekly),
        assignment(_id(db2), db_weekly),
        assignment(_id(db2), db_month_end),
        assignment(old_db3, db_weekly),
        assignment(_id(util1), quick),
        assignment(_id(old1), legacy),
        apply_update(_id(db2), db_weekly, "2026-11-20T01:00:00Z"),
        apply_update(_id(rebuilt), db_weekly, "2026-11-20T01:00:00Z", name="before-rebuild"),
        installation_result(_id(db2), exceeded=True, start="2026-11-20T01:00:00Z"),
    ]
    return estate(*(_graph_shape(r) for r in resources))


# playbook -> {flagged machine or configuration: outcome}. "fixed": a change is planned and the
# finding is gone after the apply; "report": no change, still reported; "changed": a change is
# planned and the finding stays as a report (the exceeded run is still the latest one on record).
EXPECTED: dict[str, dict[str, str]] = {
    "maintenance-moved-resource": {"db3": "fixed"},
    "schedule-prerequisites": {"web2": "fixed", "hot1": "report", "db1": "fixed", "db3": "fixed", "rebuilt": "fixed"},
    # db2: db-weekly (Thursday 20:00 New York) meets db-month-end (last day 23:30 UTC) when a month
    # ends on a Thursday in daylight-saving time: 2027-09-30, found over the whole cycle.
    "schedule-conflicts": {"web2": "report", "db2": "report"},
    "powered-off-machines": {"db1": "fixed", "arc1": "report"},
    "maintenance-window": {"quick": "fixed", "db-weekly": "changed"},
    "patch-orchestration-manual": {"dev1": "fixed"},
    "recreated-machine": {"rebuilt": "fixed"},
}
