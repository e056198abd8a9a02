"""troubleshoot-maintenance-configurations.md's sections that an API shows, end to end through
the emulator: dynamic-scope-validation and maintenance-run-health, each with look-alikes that are
healthy. Report only: nothing is written, and planning again gives the same findings."""

from __future__ import annotations

from typing import Any

from tests.data.maintenance.estates import SUB_A, SUB_B, apply_update, assignment, configuration, estate, group, vm
from tests.playbook_harness import run_through_emulator

MC = "troubleshoot-maintenance-configurations.md#"


def _sub_scope(sub: str, config: dict[str, Any], name: str) -> dict[str, Any]:
    return assignment(f"/subscriptions/{sub}", config, name=name, filter_={"locations": ["westeurope"]})


def scopes() -> dict[str, Any]:
    config = configuration(SUB_A, "rg-maint", "nightly")
    wide = configuration(SUB_A, "rg-maint", "wide")
    subs = [f"{i:08x}-0000-0000-0000-000000000000" for i in range(1, 31)]
    doc = estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        config,
        wide,
        assignment(f"/subscriptions/{SUB_A}/resourceGroups/rg-app", config, name="rg-no-locations", filter_={}),
        assignment(
            f"/subscriptions/{SUB_A}/resourceGroups/rg-app",
            config,
            name="rg-with-locations",
            filter_={"locations": ["westeurope"]},
        ),
        # A subscription-level scope needs no locations.
        assignment(f"/subscriptions/{SUB_A}", config, name="sub-wide", filter_={}),
        *(_sub_scope(sub, wide, "wide") for sub in subs),
        subs=(SUB_A, SUB_B, *subs),
    )
    return doc


def test_dynamic_scopes_the_service_cannot_validate_or_flatten() -> None:
    result = run_through_emulator(scopes(), ["dynamic-scope-validation"])
    by_key = {f.key: f for f in result.first.findings}
    assert set(by_key) == {"locations", "subscriptions"}
    assert by_key["locations"].resource_id.endswith("/configurationAssignments/rg-no-locations")
    assert by_key["locations"].doc == MC + "unable-to-create-dynamic-scope-at-resource-group-level"
    assert by_key["subscriptions"].resource_id.endswith("/maintenanceConfigurations/wide")
    assert len(by_key["subscriptions"].data["subscriptions"]) == 30
    assert by_key["subscriptions"].doc == MC + "dynamic-scope-not-executed-and-no-resources-patched"
    assert result.first.changes == () and result.again.changes == ()


def runs() -> dict[str, Any]:
    # now: Thursday 2026-11-26 09:00 UTC.
    nightly = configuration(SUB_A, "rg-maint", "nightly", start="2026-01-01 22:00")
    stuck, done, fresh = (vm(SUB_A, "rg-app", n) for n in ("stuck", "done", "fresh"))
    host_group = f"/subscriptions/{SUB_A}/resourceGroups/rg-hosts/providers/Microsoft.Compute/hostGroups/hg"
    return estate(
        group(SUB_A, "rg-maint"),
        group(SUB_A, "rg-app"),
        nightly,
        stuck,
        done,
        fresh,
        # A host that exists keeps its assignment quietly.
        _host(f"{host_group}/hosts/alive", "2026-01-01T00:00:00Z"),
        assignment(f"{host_group}/hosts/alive", nightly),
        apply_update(f"{host_group}/hosts/alive", nightly, "2026-11-20T22:00:00Z"),
        # Re-created with the same name after it last ran under the configuration.
        _host(f"{host_group}/hosts/again", "2026-11-22T00:00:00Z"),
        assignment(f"{host_group}/hosts/again", nightly),
        apply_update(f"{host_group}/hosts/again", nightly, "2026-11-20T22:00:00Z"),
        apply_update(stuck["id"], nightly, "2026-11-25T22:00:00Z", status="InProgress"),
        apply_update(done["id"], nightly, "2026-11-25T22:00:00Z"),
        apply_update(fresh["id"], nightly, "2026-11-26T07:00:00Z", status="InProgress"),
        assignment(f"{host_group}/hosts/gone", nightly),
    )


def _host(host_id: str, created: str) -> dict[str, Any]:
    return {
        "id": host_id,
        "type": "Microsoft.Compute/hostGroups/hosts",
        "location": "westeurope",
        "properties": {"timeCreated": created, "provisioningState": "Succeeded"},
    }


def test_stuck_updates_and_leftover_host_assignments() -> None:
    result = run_through_emulator(runs(), ["maintenance-run-health"])
    found = {(f.resource_id.rsplit("/", 1)[-1], f.doc.rsplit("#", 1)[-1]) for f in result.first.findings}
    assert found == {
        ("stuck", "apply-update-stuck-and-update-not-progressing"),
        ("nightly", "dedicated-host-configuration-assignment-not-cleaned-up-after-dedicated-host-removal"),
        ("nightly", "dedicated-host-updates-even-after-maintenance-configuration-is-attached"),
    }
    stuck = next(f for f in result.first.findings if f.key.startswith("stuck:"))
    assert "retry after 120 hours" in stuck.detail
    assert result.first.changes == () and result.again.changes == ()
    assert {f.id for f in result.again.findings} == {f.id for f in result.first.findings}
