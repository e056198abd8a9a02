"""policy-identity-roles and policy-remediation end to end: engine -> real SDK clients -> HTTPS emulator.

Every test ends with "apply, then plan again: no changes", and the emulator's remediations
really fail for a missing role and succeed once it is granted. The emulator runs Azure's
consistency model (a remediated machine's state changes about 15 minutes later) unless a test that
is not about time pins ``consistency: instant`` (``_instant``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from remediator import Scope
from tests.cli_runner import run_cli
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc
from tests.playbook_harness import harness, run_through_emulator, statuses

BOTH = ["policy-identity-roles", "policy-remediation"]
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"


def _instant(estate: dict[str, Any]) -> dict[str, Any]:
    """For a test that is not about time: compliance states follow a remediation at once."""
    estate.setdefault("emulator", {})["consistency"] = "instant"
    return estate


def _grants(changes: Any) -> set[tuple[str, str, str]]:
    return {
        (c.params["scope"].lower(), c.params["principal_id"], c.params["role_definition_id"].rsplit("/", 1)[-1])
        for c in changes
        if c.action == "create-role-assignment"
    }


def _tasks(changes: Any) -> dict[tuple[str, str], list[str]]:
    out = {}
    for c in changes:
        if c.action == "create-remediation":
            props = c.params["body"]["properties"]
            key = (props["policyAssignmentId"], props.get("policyDefinitionReferenceId", ""))
            out[key] = sorted(props["filters"].get("resourceIds") or props["filters"].get("locations"))
    return out


def test_landing_zone_roles_then_remediation_then_nothing_left(tmp_path: Any) -> None:
    result = run_through_emulator(sc.landing_zone(), playbooks=BOTH)
    assert result.errors == ()
    first = result.first
    assert _grants(first.changes) == {
        (b.sub_id(b.S1).lower(), sc.P_OLD, b.CONTRIBUTOR),
        (sc.IMAGE_DEFINITION_ID.lower(), sc.P_OLD, b.CONTRIBUTOR),
    }
    assert _tasks(first.changes) == {
        (sc.A_OLD["id"], ""): sorted([sc.VM_GALLERY["id"], sc.VM_RESTORED["id"]]),
        # The initiative is assigned at the management group above the subscription: the inventory
        # reads it, and its DINE member gets its own task (its audit member none).
        (sc.A_MG["id"], "prereq"): [sc.VM_RESTORED["id"]],
    }
    assert statuses(result.applied) == {"applied"}
    # Roles were granted before the task ran: it succeeded for both machines.
    assert any("2/2 deployments succeeded (vm-restored, vm-gallery)" in o.detail for o in result.applied.outcomes)
    emulator = result.emulator
    vm = emulator.get(sc.VM_GALLERY["id"])
    assert (
        vm["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["assessmentMode"]
        == "AutomaticByPlatform"
    )
    granted = [
        r for r in emulator.state.store.of_type(ROLE_ASSIGNMENT_TYPE) if r["properties"]["principalId"] == sc.P_OLD
    ]
    assert {r["name"] for r in granted} >= {
        c.params["name"] for c in first.changes if c.action == "create-role-assignment"
    }
    # Apply, then plan again: no changes. Azure re-evaluates the remediated machines about 15 minutes
    # later, so they are still non-compliant: awaiting evaluation, not a second task. What else is left
    # is what the bot cannot fix, said plainly.
    assert result.again.changes == ()
    awaiting = {
        (f.resource_id, f.key)
        for f in result.again.findings
        if f.data.get("earlier_task", {}).get("status") == "awaiting-evaluation"
    }
    assert awaiting == {
        (sc.VM_RESTORED["id"], f"{sc.A_OLD['id'].lower()}|"),
        (sc.VM_GALLERY["id"], f"{sc.A_OLD['id'].lower()}|"),
        (sc.VM_RESTORED["id"], f"{sc.A_MG['id'].lower()}|prereq"),
    }
    assert all("Awaiting evaluation" in f.detail for f in result.again.findings if (f.resource_id, f.key) in awaiting)
    rest = [f for f in result.again.findings if (f.resource_id, f.key) not in awaiting]
    assert {f.resource_id for f in rest} == {sc.A_NO_IDENTITY["id"], sc.ARC["id"]}
    assert not any(f.fixable for f in rest)


def test_remediation_fails_for_the_missing_role_and_succeeds_once_granted() -> None:
    with harness(sc.landing_zone(), playbooks=["policy-remediation"]) as h:
        first = h.plan().plan
        applied = h.apply(first)
        by_change = {c.id: c for c in first.changes}
        [outcome] = [
            o
            for o in applied.outcomes
            if by_change[o.change_id].params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]
        ]
        assert outcome.status == "failed"
        assert outcome.error is not None and outcome.error.code == "AuthorizationFailed"
        assert "vm-gallery: AuthorizationFailed" in outcome.error.message
        assert "Microsoft.Compute/galleries/images/versions/read" in outcome.error.message
        again = h.plan().plan
        # The failed task is not retried in the same run (nor under a fresh name): vm-gallery backs
        # off with the cause its deployment gave; vm-restored awaits its evaluation.
        assert _tasks(again.changes) == {}
        by_machine = {
            f.resource_id: f.data["earlier_task"]
            for f in again.findings
            if f.key == f"{sc.A_OLD['id'].lower()}|" and "earlier_task" in f.data
        }
        assert by_machine[sc.VM_GALLERY["id"]]["status"] == "backing-off"
        assert by_machine[sc.VM_GALLERY["id"]]["cause"].startswith("AuthorizationFailed: ")
        assert by_machine[sc.VM_RESTORED["id"]]["status"] == "awaiting-evaluation"
        h.emulator.advance(timedelta(hours=7))  # Azure has re-evaluated vm-restored since
    # A run seven hours later (past the 6 h back-off): the grants, then a task for vm-gallery.
    with harness(_export(h.emulator, now="2026-11-26T16:00:00Z"), playbooks=BOTH) as h2:
        plan = h2.plan().plan
        assert _grants(plan.changes) == {
            (b.sub_id(b.S1).lower(), sc.P_OLD, b.CONTRIBUTOR),
            (sc.IMAGE_DEFINITION_ID.lower(), sc.P_OLD, b.CONTRIBUTOR),
        }
        applied = h2.apply(plan)
        assert statuses(applied) == {"applied"}
        assert h2.plan().plan.changes == ()


def _export(emulator: Any, now: str = "2026-11-26T09:00:00Z") -> dict[str, Any]:
    """The emulator's current tenant as an estate file, to continue in a second run."""
    state = emulator.state
    return {
        "now": now,
        "tenantId": state.tenant_id,
        "subscriptions": [dict(s) for s in state.subscriptions.values()],
        "resources": list(state.store),
        "policyStates": [dict(p) for p in state.policy_states],
        "emulator": {"rolePropagationSeconds": 0},  # as the estates it continues (builders.estate)
    }


def test_management_group_scope_sees_the_initiative_and_remediates_its_member() -> None:
    result = run_through_emulator(_instant(sc.landing_zone()), playbooks=BOTH, scope=Scope(management_group=b.MG))
    tasks = _tasks(result.first.changes)
    assert tasks[(sc.A_MG["id"], "prereq")] == [sc.VM_RESTORED["id"]]
    assert (sc.A_MG["id"], "audit") not in tasks
    mg_task = next(
        c
        for c in result.first.changes
        if c.params.get("body", {}).get("properties", {}).get("policyDefinitionReferenceId") == "prereq"
    )
    assert mg_task.params["scope"] == b.sub_id(b.S1)  # below the management group assignment
    assert statuses(result.applied) == {"applied"}
    settings = result.emulator.get(sc.VM_RESTORED["id"])["properties"]["osProfile"]["windowsConfiguration"]
    assert settings["patchSettings"]["patchMode"] == "AutomaticByPlatform"
    assert result.again.changes == ()


def test_tasks_at_the_management_group_itself_when_configured() -> None:
    options = {"policy-remediation": {"task_scope": "assignment"}}
    result = run_through_emulator(
        _instant(sc.landing_zone()), playbooks=BOTH, options=options, scope=Scope(management_group=b.MG)
    )
    scopes = {
        c.params["body"]["properties"].get("policyDefinitionReferenceId", ""): c.params["scope"]
        for c in result.first.changes
        if c.action == "create-remediation"
    }
    assert scopes == {"prereq": b.MG_ID, "": b.sub_id(b.S1)}
    assert statuses(result.applied) == {"applied"}
    task = result.emulator.get(
        f"{b.MG_ID}/providers/Microsoft.PolicyInsights/remediations/"
        + next(c.params["name"] for c in result.first.changes if c.params.get("scope") == b.MG_ID)
    )
    assert task is not None and task["properties"]["provisioningState"] == "Succeeded"
    assert result.again.changes == ()


def test_an_estate_never_seen_gets_the_right_tasks_and_roles_and_none_of_the_wrong_ones() -> None:
    """180 restored VMs in two groups (one needs two tasks of at most 100), an old assignment, a shared
    image in a third group, an audit assignment, a custom DINE policy nobody named, and an identity
    that already holds enough."""
    shared = b.gallery_image(b.S1, "shared-images", "corp", "win2022")
    vms = [b.vm(b.S1, "fleet-a", f"a{i:03d}", attach=True, os_profile=False) for i in range(130)]
    vms += [b.vm(b.S1, "fleet-b", f"b{i:03d}", image_id=shared[2]["id"], os_profile=False) for i in range(50)]
    principal = "bbbbbbbb-0000-4000-8000-000000000001"
    fine_principal = "bbbbbbbb-0000-4000-8000-000000000002"
    old = b.policy_assignment(b.rg_id(b.S1, "fleet-a"), "assess-a", b.VM_ASSESSMENT, principal=principal)
    old_b = b.policy_assignment(b.rg_id(b.S1, "fleet-b"), "assess-b", b.VM_ASSESSMENT, principal=fine_principal)
    audit = b.policy_assignment(b.sub_id(b.S1), "audit", b.AUDIT_ASSESSMENT)
    other = b.custom_definition(b.sub_id(b.S1), "other-dine", "deployIfNotExists", [b.CONTRIBUTOR])
    other_assignment = b.policy_assignment(b.sub_id(b.S1), "other", other["id"], principal=fine_principal)
    resources = [
        b.resource_group(b.S1, "fleet-a"),
        b.resource_group(b.S1, "fleet-b"),
        b.resource_group(b.S1, "shared-images"),
        *shared,
        *vms,
        old,
        old_b,
        audit,
        other,
        other_assignment,
        b.role_assignment(b.rg_id(b.S1, "fleet-a"), principal, b.VM_CONTRIBUTOR, "r1"),
        # Owner at the subscription covers everything for the second identity.
        b.role_assignment(b.sub_id(b.S1), fine_principal, b.OWNER, "r2"),
    ]
    states = [b.state(v, old if v["name"].startswith("a") else old_b, b.VM_ASSESSMENT) for v in vms]
    states += [b.state(v, audit, b.AUDIT_ASSESSMENT) for v in vms[:5]]
    states += [b.state(v, other_assignment, other["id"]) for v in vms[:5]]
    result = run_through_emulator(_instant(b.estate(resources, states, subs=(b.S1,))), playbooks=BOTH)
    first = result.first
    # Only the first identity lacks Contributor, only at its own resource group (fleet-a VMs use no image).
    assert _grants(first.changes) == {(b.rg_id(b.S1, "fleet-a").lower(), principal, b.CONTRIBUTOR)}
    sizes = sorted(
        (c.params["body"]["properties"]["policyAssignmentId"].rsplit("/", 1)[-1], len(c.params["resource_ids"]))
        for c in first.changes
        if c.action == "create-remediation"
    )
    assert sizes == [("assess-a", 30), ("assess-a", 100), ("assess-b", 50)]
    assert all(
        c.params["scope"].lower() in (b.rg_id(b.S1, "fleet-a").lower(), b.rg_id(b.S1, "fleet-b").lower())
        for c in first.changes
        if c.action == "create-remediation"
    )
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()
    assert result.again.findings == ()


def test_scheduling_policy_needs_a_role_where_its_maintenance_configuration_lives() -> None:
    config_id = f"{b.rg_id(b.S2, 'maintenance')}/providers/Microsoft.Maintenance/maintenanceConfigurations/weekly"
    config = {
        "id": config_id,
        "name": "weekly",
        "type": "Microsoft.Maintenance/maintenanceConfigurations",
        "location": "westeurope",
        "properties": {
            "maintenanceScope": "InGuestPatch",
            "visibility": "Custom",
            "extensionProperties": {"InGuestPatchMode": "User"},
            "maintenanceWindow": {
                "startDateTime": "2026-12-01 02:00",
                "duration": "02:00",
                "timeZone": "UTC",
                "recurEvery": "1Week Sunday",
            },
            "installPatches": {
                "rebootSetting": "IfRequired",
                "windowsParameters": {"classificationsToInclude": ["Critical"]},
            },
        },
    }
    schedule = b.policy_assignment(
        b.sub_id(b.S1),
        "schedule",
        b.SCHEDULING,
        principal=sc.P_OLD,
        parameters={"maintenanceConfigurationResourceId": config_id},
    )
    data = b.estate(
        [
            b.resource_group(b.S1, "vms"),
            b.resource_group(b.S2, "maintenance"),
            config,
            sc.VM_RESTORED,
            schedule,
            b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "c1"),
        ],
        [b.state(sc.VM_RESTORED, schedule, b.SCHEDULING)],
    )
    result = run_through_emulator(
        _instant(data), playbooks=BOTH, options={"policy-remediation": {"trigger_evaluation": True}}
    )
    assert _grants(result.first.changes) == {(config_id.lower(), sc.P_OLD, b.CONTRIBUTOR)}
    assert _tasks(result.first.changes) == {(schedule["id"], ""): [sc.VM_RESTORED["id"]]}
    assert statuses(result.applied) == {"applied"}
    created = result.emulator.state.store.under(sc.VM_RESTORED["id"], "Microsoft.Maintenance/configurationAssignments")
    assert [c["properties"]["maintenanceConfigurationId"] for c in created] == [config_id]
    assert created[0]["name"].endswith("-AzPolicy")
    assert any(
        e.method == "POST" and e.path.lower().endswith("/policystates/latest/triggerevaluation")
        for e in result.emulator.request_log
    )
    assert result.again.changes == () and result.again.findings == ()


def test_a_broader_role_already_held_covers_the_definitions_role() -> None:
    """A custom policy that names Virtual Machine Contributor; its identity holds Contributor."""
    custom = b.custom_definition(b.sub_id(b.S1), "vmc-policy", "modify", [b.VM_CONTRIBUTOR])
    holder = "cccccccc-0000-4000-8000-000000000001"
    assignment = b.policy_assignment(b.sub_id(b.S1), "vmc", custom["id"], principal=holder)
    data = b.estate(
        [
            b.resource_group(b.S1, "vms"),
            sc.VM_RESTORED,
            custom,
            assignment,
            b.role_assignment(b.sub_id(b.S1), holder, b.CONTRIBUTOR, "h1"),
        ],
        [b.state(sc.VM_RESTORED, assignment, custom["id"])],
    )
    options = {name: {"custom_definitions": [custom["id"]]} for name in BOTH}
    result = run_through_emulator(_instant(data), playbooks=BOTH, options=options)
    assert _grants(result.first.changes) == set()  # Contributor covers Virtual Machine Contributor
    assert _tasks(result.first.changes) == {(assignment["id"], ""): [sc.VM_RESTORED["id"]]}
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == () and result.again.findings == ()


def test_cli_dry_run_then_fix_the_landing_zone(tmp_path: Path) -> None:
    path = tmp_path / "landing-zone.json"
    path.write_text(json.dumps(sc.landing_zone()))
    args = ["run", "--estate", str(path), "--playbook", BOTH[0], "--playbook", BOTH[1], "--format", "json"]
    dry = run_cli([*args[:1], "--dry-run", *args[1:]])
    assert dry.code == 2, dry.stderr
    doc = json.loads(dry.stdout)
    actions = sorted(c["action"] for c in doc["changes"])
    assert actions == ["create-remediation", "create-remediation", "create-role-assignment", "create-role-assignment"]
    fixed = run_cli(args)
    assert fixed.code == 0, fixed.stderr
    doc = json.loads(fixed.stdout)
    assert {o["status"] for o in doc["outcomes"]} == {"applied"}
    assert doc["plan_after_apply"]["changes"] == []
    # --estate runs keep Azure's consistency: the remediated machines await their evaluation.
    after = doc["plan_after_apply"]["findings"]
    assert {f["resource_id"].rsplit("/", 1)[-1] for f in after if "Awaiting evaluation" in f["detail"]} == {
        "vm-restored",
        "vm-gallery",
    }


def test_failed_deployments_recorded_in_the_estate_are_read_after_the_fact() -> None:
    """An export that carries a failed task's listDeployments (properties.deployments) names the scope."""
    des = f"{b.rg_id(b.S2, 'keys')}/providers/Microsoft.Compute/diskEncryptionSets/des1"
    data = sc.landing_zone()
    data["resources"] += [
        b.resource_group(b.S2, "keys"),
        {"id": des, "name": "des1", "type": "Microsoft.Compute/diskEncryptionSets", "location": "westeurope"},
        b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-0000000000c1"),
        b.role_assignment(sc.IMAGE_DEFINITION_ID, sc.P_OLD, b.CONTRIBUTOR, "0b6f2d1e-0000-4000-8000-0000000000c2"),
        {
            "id": f"{b.sub_id(b.S1)}/providers/Microsoft.PolicyInsights/remediations/last-week",
            "name": "last-week",
            "type": "Microsoft.PolicyInsights/remediations",
            "properties": {
                "policyAssignmentId": sc.A_OLD["id"],
                "provisioningState": "Failed",
                "deployments": [
                    {
                        "remediatedResourceId": sc.VM_RESTORED["id"],
                        "status": "Failed",
                        "error": {
                            "code": "AuthorizationFailed",
                            "message": f"The client '{sc.P_OLD}' with object id '{sc.P_OLD}' does not have "
                            "authorization to perform action 'Microsoft.Compute/diskEncryptionSets/read' over "
                            f"scope '{des}' or the scope is invalid.",
                        },
                    }
                ],
            },
        },
    ]
    result = run_through_emulator(data, playbooks=["policy-identity-roles"])
    assert _grants(result.first.changes) == {(des.lower(), sc.P_OLD, b.CONTRIBUTOR)}
    assert statuses(result.applied) == {"applied"}
    assert result.again.changes == ()


def test_arc_machines_get_the_connected_machine_role_then_their_assessment_mode() -> None:
    arc_principal = "dddddddd-0000-4000-8000-000000000001"
    arc_assignment = b.policy_assignment(b.sub_id(b.S1), "arc-assess", b.ARC_ASSESSMENT, principal=arc_principal)
    data = b.estate(
        [b.resource_group(b.S1, "arc"), sc.ARC, arc_assignment],
        [b.state(sc.ARC, arc_assignment, b.ARC_ASSESSMENT)],
        subs=(b.S1,),
    )
    result = run_through_emulator(_instant(data), playbooks=BOTH)
    connected_machine_admin = "cd570a14-e51a-42ad-bac8-bafd67325302"
    assert _grants(result.first.changes) == {(b.sub_id(b.S1).lower(), arc_principal, connected_machine_admin)}
    assert _tasks(result.first.changes) == {(arc_assignment["id"], ""): [sc.ARC["id"]]}
    assert statuses(result.applied) == {"applied"}
    arc = result.emulator.get(sc.ARC["id"])
    assert arc["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["assessmentMode"] == (
        "AutomaticByPlatform"
    )
    assert result.again.changes == () and result.again.findings == ()


def test_an_excluded_machine_never_rides_along_in_another_machines_task() -> None:
    from remediator.engine import Guardrails

    gallery = sc.VM_GALLERY["id"]
    with harness(sc.landing_zone(), playbooks=BOTH, guardrails=Guardrails(exclude=(gallery.lower(),))) as h:
        plan = h.plan().plan
        tasks = [c for c in plan.changes if c.action == "create-remediation"]
        assert tasks and all(gallery.lower() not in {r.lower() for r in c.params["resource_ids"]} for c in tasks)
        h.apply(plan)
        vm = h.emulator.get(gallery)
        patch = vm["properties"].get("osProfile", {}).get("windowsConfiguration", {}).get("patchSettings", {})
        assert patch.get("assessmentMode") != "AutomaticByPlatform"
        assert h.plan().plan.changes == ()


def test_a_run_scoped_to_a_subscription_never_grants_at_the_management_group_above_it() -> None:
    data = sc.landing_zone()
    # The management-group assignment's identity loses its role there.
    data["resources"] = [
        r
        for r in data["resources"]
        if not (r["type"].lower().endswith("roleassignments") and r["name"].endswith("000000000002"))
    ]
    scoped = run_through_emulator(data, playbooks=BOTH, scope=Scope(subscriptions=(b.S1,)))
    grants = _grants(scoped.first.changes)
    assert grants and not any("/managementgroups/" in scope for scope, _, _ in grants)
    whole = run_through_emulator(data, playbooks=BOTH, scope=Scope(management_group=b.MG))
    assert any("/managementgroups/" in scope for scope, _, _ in _grants(whole.first.changes))


def test_a_locations_filter_never_covers_the_location_of_an_excluded_machine() -> None:
    from remediator.engine import Guardrails

    gallery = sc.VM_GALLERY["id"]
    options = {"policy-remediation": {"filter": "locations"}}
    guard = Guardrails(exclude=(gallery.lower(),))
    with harness(sc.landing_zone(), playbooks=BOTH, options=options, guardrails=guard) as h:
        plan = h.plan().plan
        excluded_location = sc.VM_GALLERY["location"].lower()
        for change in plan.changes:
            if (
                change.action == "create-remediation"
                and change.params["body"]["properties"].get("policyAssignmentId", "").lower()
                == str(sc.A_OLD["id"]).lower()
            ):
                assert excluded_location not in change.params["body"]["properties"]["filters"]["locations"]
        h.apply(plan)
        vm = h.emulator.get(gallery)
        patch = vm["properties"].get("osProfile", {}).get("windowsConfiguration", {}).get("patchSettings", {})
        assert patch.get("assessmentMode") != "AutomaticByPlatform"


def test_a_do_not_enforce_assignment_is_reported_not_remediated_unless_asked() -> None:
    data = sc.landing_zone()
    for resource in data["resources"]:
        if resource["id"] == sc.A_OLD["id"]:
            resource["properties"]["enforcementMode"] = "DoNotEnforce"
    quiet = run_through_emulator(data, playbooks=["policy-remediation"])
    assert not any(
        c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]
        for c in quiet.first.changes
        if c.action == "create-remediation"
    )
    assert any("DoNotEnforce" in f.detail and not f.fixable for f in quiet.first.findings)
    asked = run_through_emulator(
        data, playbooks=["policy-remediation"], options={"policy-remediation": {"remediate_do_not_enforce": True}}
    )
    assert any(
        c.params["body"]["properties"]["policyAssignmentId"] == sc.A_OLD["id"]
        for c in asked.first.changes
        if c.action == "create-remediation"
    )
