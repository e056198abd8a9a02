"""Remediations and policy states in the emulator, driven by the unmodified Azure SDK clients.

The emulator's remediation runs asynchronously (one step per poll), deploys the built-in effect
as the assignment's identity, fails with AuthorizationFailed where that identity lacks access,
and the machine's next evaluation flips its policy state, which Resource Graph then serves. Tests
here that are not about time pin ``consistency: instant`` (no evaluation delay, no Graph lag);
the delays themselves are tests/integration/test_emulator_consistency.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.mgmt.policyinsights import PolicyInsightsClient
from azure.mgmt.policyinsights.models import QueryOptions
from azure.mgmt.resourcegraph import ResourceGraphClient
from azure.mgmt.resourcegraph.models import QueryRequest

from tests.conftest import Served
from tests.data.policy import builders as b
from tests.data.policy import scenarios as sc

NEW = "2024-10-01"


def _client(served: Served) -> PolicyInsightsClient:
    return PolicyInsightsClient(served.credential(), b.S1, **served.client_kwargs())


def _create(client: PolicyInsightsClient, name: str, properties: dict[str, Any], api_version: str = NEW) -> Any:
    body = json.dumps({"properties": properties}).encode()
    return client.remediations.create_or_update_at_subscription(name, body, api_version=api_version)


def _until_done(client: PolicyInsightsClient, name: str) -> list[str]:
    seen = []
    for _ in range(10):
        state = client.remediations.get_at_subscription(name, api_version=NEW).provisioning_state
        seen.append(state)
        if state not in ("Accepted", "Evaluating", "Running"):
            break
    return seen


def _noncompliant(client: PolicyInsightsClient) -> set[tuple[str, str]]:
    rows = client.policy_states.list_query_results_for_subscription(
        "latest", b.S1, query_options=QueryOptions(filter="complianceState eq 'NonCompliant'")
    )
    return {(r.resource_id.rsplit("/", 1)[-1], r.policy_assignment_name) for r in rows}


def test_remediation_runs_async_applies_the_effect_and_flips_the_state(
    emulator_factory: Callable[..., Served],
) -> None:
    served = emulator_factory(sc.landing_zone(), consistency="instant")
    client = _client(served)
    created = _create(
        client,
        "restored",
        {"policyAssignmentId": sc.A_OLD["id"], "filters": {"resourceIds": [sc.VM_RESTORED["id"]]}, "resourceCount": 5},
    )
    assert created.provisioning_state == "Accepted"
    assert _until_done(client, "restored") == ["Evaluating", "Running", "Succeeded"]
    deployments = list(client.remediations.list_deployments_at_subscription("restored", api_version=NEW))
    assert [(d.remediated_resource_id, d.status) for d in deployments] == [(sc.VM_RESTORED["id"], "Succeeded")]
    vm = served.emulator.get(sc.VM_RESTORED["id"])
    assert (
        vm["properties"]["osProfile"]["windowsConfiguration"]["patchSettings"]["assessmentMode"]
        == "AutomaticByPlatform"
    )
    assert ("vm-restored", "vm-assessment") not in _noncompliant(client)
    assert ("vm-gallery", "vm-assessment") in _noncompliant(client)  # filtered out: untouched
    # Resource Graph serves the flipped state.
    graph = ResourceGraphClient(served.credential(), **served.client_kwargs())
    rows = graph.resources(
        QueryRequest(
            subscriptions=[b.S1],
            query="policyresources | where type in~ ('microsoft.policyinsights/policystates', "
            "'microsoft.policyinsights/remediations') | project id, name, type, properties",
        )
    ).data
    states = {
        (r["properties"]["resourceId"].rsplit("/", 1)[-1], r["properties"]["complianceState"])
        for r in rows
        if r["type"] == "microsoft.policyinsights/policystates"
        and r["properties"]["policyAssignmentId"].lower() == sc.A_OLD["id"].lower()
    }
    assert ("vm-restored", "Compliant") in states and ("vm-gallery", "NonCompliant") in states
    # Resource Graph has no table for remediations (as in Azure): they are listed through Policy Insights.
    assert [r for r in rows if r["type"] == "microsoft.policyinsights/remediations"] == []
    listed = list(client.remediations.list_for_subscription(api_version="2021-10-01"))
    assert [r.provisioning_state for r in listed] == ["Succeeded"]


def test_missing_gallery_image_read_fails_with_authorization_failed_until_granted(
    emulator_factory: Callable[..., Served],
) -> None:
    served = emulator_factory(sc.landing_zone(), page_size=1)  # listDeployments pages via nextLink
    client = _client(served)
    _create(client, "first", {"policyAssignmentId": sc.A_OLD["id"]})
    assert _until_done(client, "first")[-1] == "Failed"
    outcome = {
        d.remediated_resource_id.rsplit("/", 1)[-1]: d
        for d in client.remediations.list_deployments_at_subscription("first")
    }
    assert outcome["vm-restored"].status == "Succeeded"  # Virtual Machine Contributor can write the VM
    failed = outcome["vm-gallery"]
    assert failed.status == "Failed" and failed.error.code == "AuthorizationFailed"
    assert sc.P_OLD in failed.error.message
    assert "Microsoft.Compute/galleries/images/versions/read" in failed.error.message
    assert f"scope '{sc.IMAGE_VERSION_ID}'" in failed.error.message
    # Grant Contributor at the image definition (what policy-identity-roles plans), then retry.
    served.emulator.state.store.put(b.role_assignment(sc.IMAGE_DEFINITION_ID, sc.P_OLD, b.CONTRIBUTOR, "granted"))
    _create(client, "second", {"policyAssignmentId": sc.A_OLD["id"]})
    assert _until_done(client, "second")[-1] == "Succeeded"
    served.emulator.advance(15 * 60)  # Azure re-evaluates a changed machine about 15 minutes later
    assert ("vm-gallery", "vm-assessment") not in _noncompliant(client)


def test_initiative_member_at_management_group_and_dine_effect(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone())
    client = _client(served)
    body = json.dumps(
        {"properties": {"policyAssignmentId": sc.A_MG["id"], "policyDefinitionReferenceId": "prereq"}}
    ).encode()
    client.remediations.create_or_update_at_management_group(b.MG, "prereq", body, api_version=NEW)
    for _ in range(4):
        task = client.remediations.get_at_management_group(b.MG, "prereq", api_version=NEW)
    assert task.provisioning_state == "Succeeded"
    settings = served.emulator.get(sc.VM_RESTORED["id"])["properties"]["osProfile"]["windowsConfiguration"][
        "patchSettings"
    ]
    assert settings["patchMode"] == "AutomaticByPlatform"
    assert settings["automaticByPlatformSettings"]["bypassPlatformSafetyChecksOnUserSchedule"] is True
    listed = list(client.remediations.list_for_management_group(b.MG, query_options=QueryOptions(top=5)))
    assert [r.name for r in listed] == ["prereq"]


def test_scheduling_policy_creates_the_configuration_assignment(emulator_factory: Callable[..., Served]) -> None:
    config_id = f"{b.rg_id(b.S2, 'maintenance')}/providers/Microsoft.Maintenance/maintenanceConfigurations/weekly"
    assignment = b.policy_assignment(
        b.sub_id(b.S1),
        "schedule",
        b.SCHEDULING,
        principal=sc.P_OLD,
        parameters={"maintenanceConfigurationResourceId": config_id},
    )
    data = sc.landing_zone()
    data["resources"] += [
        assignment,
        b.resource_group(b.S2, "maintenance"),
        b.role_assignment(b.sub_id(b.S1), sc.P_OLD, b.CONTRIBUTOR, "c1"),
    ]
    data["policyStates"].append(b.state(sc.VM_RESTORED, assignment, b.SCHEDULING))
    served = emulator_factory(data)
    client = _client(served)
    _create(client, "schedule", {"policyAssignmentId": assignment["id"]})
    assert _until_done(client, "schedule")[-1] == "Failed"  # the configuration is in another subscription
    [deployment] = client.remediations.list_deployments_at_subscription("schedule")
    assert "Microsoft.Maintenance/maintenanceConfigurations/read" in deployment.error.message
    served.emulator.state.store.put(b.role_assignment(config_id, sc.P_OLD, b.CONTRIBUTOR, "c2"))
    _create(client, "schedule-2", {"policyAssignmentId": assignment["id"]})
    assert _until_done(client, "schedule-2")[-1] == "Succeeded"
    created = served.emulator.state.store.under(sc.VM_RESTORED["id"], "Microsoft.Maintenance/configurationAssignments")
    assert len(created) == 1 and created[0]["name"].endswith("-AzPolicy")
    assert created[0]["properties"]["maintenanceConfigurationId"] == config_id


@pytest.mark.parametrize(
    ("properties", "fragment"),
    [
        ({"filters": {"resourceIds": [f"/subscriptions/{b.S1}/x/{i}" for i in range(101)]}}, "between 1 and 100"),
        (
            {"filters": {"resourceIds": [sc.VM_RESTORED["id"]]}, "resourceDiscoveryMode": "ReEvaluateCompliance"},
            "ReEvaluateCompliance",
        ),
        ({"parallelDeployments": 31}, "parallelDeployments"),
        ({"failureThreshold": {"percentage": 1.5}}, "failure threshold"),
    ],
)
def test_invalid_remediations_are_refused(
    emulator_factory: Callable[..., Served], properties: dict[str, Any], fragment: str
) -> None:
    client = _client(emulator_factory(sc.landing_zone()))
    with pytest.raises(HttpResponseError) as refused:
        _create(client, "bad", {"policyAssignmentId": sc.A_OLD["id"], **properties})
    assert refused.value.status_code == 400 and fragment in str(refused.value.message)


def test_audit_and_initiative_without_reference_are_refused(emulator_factory: Callable[..., Served]) -> None:
    client = _client(emulator_factory(sc.landing_zone()))
    with pytest.raises(HttpResponseError, match="not within the policy assignment scope"):
        _create(client, "wide", {"policyAssignmentId": sc.A_DISABLED["id"]})  # assigned at a resource group
    with pytest.raises(HttpResponseError, match="deployIfNotExists"):
        client.remediations.create_or_update_at_resource_group(
            "vms",
            "disabled",
            json.dumps({"properties": {"policyAssignmentId": sc.A_DISABLED["id"]}}).encode(),
            api_version=NEW,
        )
    with pytest.raises(HttpResponseError, match="reference"):
        client.remediations.create_or_update_at_management_group(
            b.MG, "noref", json.dumps({"properties": {"policyAssignmentId": sc.A_MG["id"]}}).encode(), api_version=NEW
        )


def test_resource_ids_filter_needs_2024_10_01_and_is_ignored_before(emulator_factory: Callable[..., Served]) -> None:
    """The 2021-10-01 spec has no filters.resourceIds: ARM ignores it, and the task covers everything."""
    served = emulator_factory(sc.landing_zone())
    client = _client(served)
    only_restored = {"policyAssignmentId": sc.A_OLD["id"], "filters": {"resourceIds": [sc.VM_RESTORED["id"]]}}
    created = _create(client, "unfiltered", only_restored, api_version="2021-10-01")
    assert created.filters.locations == []
    for _ in range(4):
        client.remediations.get_at_subscription("unfiltered", api_version="2021-10-01")
    covered = {d.remediated_resource_id for d in client.remediations.list_deployments_at_subscription("unfiltered")}
    assert covered == {sc.VM_RESTORED["id"], sc.VM_GALLERY["id"]}


def test_old_api_version_neither_stores_nor_serves_new_fields(emulator_factory: Callable[..., Served]) -> None:
    client = _client(emulator_factory(sc.landing_zone()))
    created = client.remediations.create_or_update_at_subscription(
        "old",
        json.dumps({"properties": {"policyAssignmentId": sc.A_OLD["id"], "resourceCount": 3}}).encode(),
        cls=lambda response, _d, _h: json.loads(response.http_response.text()),
    )
    assert "resourceCount" not in created["properties"]
    assert created["properties"]["filters"] == {"locations": []}


def test_cancel_and_delete(emulator_factory: Callable[..., Served]) -> None:
    client = _client(emulator_factory(sc.landing_zone()))
    _create(client, "long", {"policyAssignmentId": sc.A_OLD["id"]})
    assert client.remediations.cancel_at_subscription("long").provisioning_state == "Canceled"
    assert client.remediations.get_at_subscription("long").provisioning_state == "Canceled"
    client.remediations.delete_at_subscription("long")
    assert [r.name for r in client.remediations.list_for_subscription()] == []


def test_policy_states_filter_top_paging_and_scopes(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone(), page_size=2)
    client = _client(served)
    everything = list(client.policy_states.list_query_results_for_subscription("latest", b.S1))
    assert len(everything) == len(sc.landing_zone()["policyStates"])  # several pages, via @odata.nextLink
    capped = list(client.policy_states.list_query_results_for_subscription("latest", b.S1, QueryOptions(top=3)))
    assert len(capped) == 3
    by_assignment = list(
        client.policy_states.list_query_results_for_subscription(
            "latest",
            b.S1,
            QueryOptions(filter=f"policyAssignmentId eq '{sc.A_OLD['id']}' and complianceState eq 'NonCompliant'"),
        )
    )
    assert {r.resource_id for r in by_assignment} == {sc.VM_RESTORED["id"], sc.VM_GALLERY["id"]}
    assert all(r.policy_definition_action == "modify" for r in by_assignment)
    at_mg = list(client.policy_states.list_query_results_for_management_group("latest", b.MG))
    assert len(at_mg) == len(everything)
    at_vm = list(client.policy_states.list_query_results_for_resource("latest", sc.VM_RESTORED["id"]))
    assert {r.resource_id for r in at_vm} == {sc.VM_RESTORED["id"]}
    with pytest.raises(HttpResponseError):
        list(
            client.policy_states.list_query_results_for_subscription("latest", b.S1, QueryOptions(filter="contains(x)"))
        )


def _fix_out_of_band(served: Served, vm_id: str) -> None:
    """Someone set the VM's assessment mode by hand: its recorded state is now stale."""
    vm = served.emulator.state.store.get(vm_id)
    assert vm is not None
    profile = vm["properties"].setdefault("osProfile", {}).setdefault("windowsConfiguration", {})
    profile.setdefault("patchSettings", {})["assessmentMode"] = "AutomaticByPlatform"
    served.emulator.state.store.put(vm)


def test_trigger_evaluation_rescans_the_update_manager_policies(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone(), consistency="instant")
    client = _client(served)
    _fix_out_of_band(served, sc.VM_GALLERY["id"])
    assert ("vm-gallery", "vm-assessment") in _noncompliant(client)  # not until the scan
    client.policy_states.begin_trigger_subscription_evaluation(b.S1).result()
    after = _noncompliant(client)
    assert ("vm-gallery", "vm-assessment") not in after
    assert ("vm-restored", "vm-assessment") in after and ("vm-restored", "aum-baseline") in after
    assert ("vm-restored", "tag-vms") in after  # a policy the emulator does not evaluate keeps its state
    stamped = {
        r.timestamp.isoformat() for r in client.policy_states.list_query_results_for_subscription("latest", b.S1)
    }
    assert not any(t.startswith("2026-11-26T08:00") for t in stamped)


def test_re_evaluate_compliance_skips_machines_fixed_since(emulator_factory: Callable[..., Served]) -> None:
    served = emulator_factory(sc.landing_zone())
    client = _client(served)
    _fix_out_of_band(served, sc.VM_GALLERY["id"])
    _create(client, "rescan", {"policyAssignmentId": sc.A_OLD["id"], "resourceDiscoveryMode": "ReEvaluateCompliance"})
    assert _until_done(client, "rescan")[-1] == "Succeeded"  # the gallery VM needed nothing: no failing read
    covered = [d.remediated_resource_id for d in client.remediations.list_deployments_at_subscription("rescan")]
    assert covered == [sc.VM_RESTORED["id"]]


def test_parallel_deployments_pace_the_task_and_the_failure_threshold_stops_it(
    emulator_factory: Callable[..., Served],
) -> None:
    served = emulator_factory(sc.landing_zone())
    client = _client(served)
    _create(client, "paced", {"policyAssignmentId": sc.A_OLD["id"], "parallelDeployments": 1})
    assert _until_done(client, "paced") == ["Evaluating", "Running", "Running", "Failed"]
    # Without any role, the first deployment fails; a zero threshold cancels the rest.
    data = sc.landing_zone()
    data["resources"] = [r for r in data["resources"] if not r["id"].endswith("0b6f2d1e-0000-4000-8000-000000000001")]
    client = _client(emulator_factory(data))
    _create(
        client,
        "strict",
        {"policyAssignmentId": sc.A_OLD["id"], "parallelDeployments": 1, "failureThreshold": {"percentage": 0.0}},
    )
    assert _until_done(client, "strict")[-1] == "Failed"
    statuses = sorted(d.status for d in client.remediations.list_deployments_at_subscription("strict"))
    assert statuses == ["Canceled", "Failed"]


def test_locations_filter_limits_the_task_to_those_regions(emulator_factory: Callable[..., Served]) -> None:
    data = sc.landing_zone()
    north = b.vm(b.S1, "vms", "vm-north", attach=True, os_profile=False, location="northeurope")
    data["resources"].append(north)
    data["policyStates"].append(b.state(north, sc.A_OLD, b.VM_ASSESSMENT))
    client = _client(emulator_factory(data))
    _create(client, "north", {"policyAssignmentId": sc.A_OLD["id"], "filters": {"locations": ["northeurope"]}})
    assert _until_done(client, "north")[-1] == "Succeeded"
    covered = [d.remediated_resource_id for d in client.remediations.list_deployments_at_subscription("north")]
    assert covered == [north["id"]]
    listed = client.remediations.list_for_subscription(
        query_options=QueryOptions(filter=f"PolicyAssignmentId eq '{sc.A_OLD['id']}'")
    )
    assert [r.name for r in listed] == ["north"]
