"""The synthetic estate generator: valid, reproducible, and covering every playbook's failure."""

from __future__ import annotations

import json
from collections import Counter

from click.testing import CliRunner

from remediator.emulator import Emulator
from remediator.emulator.cli import emulator as emulator_group
from remediator.emulator.estate_schema import validate_estate
from remediator.emulator.generate import generate_estate


def machines(estate: dict) -> list[dict]:
    return [
        r
        for r in estate["resources"]
        if r["type"] in ("Microsoft.Compute/virtualMachines", "Microsoft.HybridCompute/machines")
    ]


def test_same_seed_same_estate_and_other_seed_differs():
    one = generate_estate(machines=60, subscriptions=4, seed=5)
    assert one == generate_estate(machines=60, subscriptions=4, seed=5)
    assert one != generate_estate(machines=60, subscriptions=4, seed=6)


def test_estate_is_valid_and_has_the_requested_machines_and_subscriptions():
    estate = generate_estate(machines=250, subscriptions=5, seed=1)
    validate_estate("generated", estate)
    assert len(machines(estate)) == 250
    assert len(estate["subscriptions"]) == 5
    assert len(estate["policyStates"]) == 250


def test_provider_states_cover_unregistered_registering_and_a_sandbox_without_machines():
    estate = generate_estate(machines=80, subscriptions=4, seed=2)
    by_name = {s["displayName"]: s for s in estate["subscriptions"]}
    assert by_name["arc-01"]["providers"] == {"Microsoft.Compute": "NotRegistered"}
    assert by_name["sandbox-03"]["providers"] == {"Microsoft.Compute": "NotRegistered"}
    sandbox = by_name["sandbox-03"]["subscriptionId"]
    assert not [m for m in machines(estate) if m["id"].split("/")[2] == sandbox]
    assert any(
        m["type"] == "Microsoft.HybridCompute/machines" and m["id"].split("/")[2] == by_name["arc-01"]["subscriptionId"]
        for m in machines(estate)
    )
    six = generate_estate(machines=80, subscriptions=6, seed=2)
    assert {s["displayName"]: s.get("providers") for s in six["subscriptions"]}["arc-03"] == {
        "Microsoft.Compute": "Registering"
    }


def test_broken_machines_for_every_failure_are_present():
    estate = generate_estate(machines=1500, subscriptions=3, seed=3)
    resources = estate["resources"]
    vms = [m for m in machines(estate) if m["type"] == "Microsoft.Compute/virtualMachines"]
    power = Counter(
        s["code"]
        for vm in vms
        for s in vm["properties"]["instanceView"]["statuses"]
        if s["code"].startswith("PowerState/")
    )
    patch_modes = Counter(
        (vm["properties"].get("osProfile") or {})
        .get("windowsConfiguration", {})
        .get("patchSettings", {})
        .get("patchMode")
        for vm in vms
    )
    assignments = [r for r in resources if r["type"] == "Microsoft.Maintenance/configurationAssignments"]
    stale = [
        a
        for a in assignments
        if "/virtualMachines/" in a["id"] and not any(a["id"].lower().startswith(vm["id"].lower() + "/") for vm in vms)
    ]
    per_machine = Counter(a["properties"]["resourceId"].lower() for a in assignments)
    configs = {r["name"]: r for r in resources if r["type"] == "Microsoft.Maintenance/maintenanceConfigurations"}
    extensions = Counter(r["properties"]["provisioningState"] for r in resources if r["type"].endswith("/extensions"))
    assessments = Counter(r["properties"]["status"] for r in resources if r["type"].endswith("patchassessmentresults"))
    exceeded = [
        r
        for r in resources
        if r["type"].endswith("patchinstallationresults") and r["properties"]["maintenanceWindowExceeded"]
    ]
    compliance = Counter(s["complianceState"] for s in estate["policyStates"])
    roles = Counter(
        r["properties"]["roleDefinitionId"].rsplit("/", 1)[1]
        for r in resources
        if r["type"] == "Microsoft.Authorization/roleAssignments"
    )

    assert power["PowerState/deallocated"] > 0 and power["PowerState/running"] > 0
    assert patch_modes["AutomaticByOS"] > 0 and patch_modes["AutomaticByPlatform"] > 0
    assert stale, "moved machines leave assignments under their old ids"
    assert max(per_machine.values()) >= 2, "some machines sit under two overlapping schedules"
    assert configs["short"]["properties"]["maintenanceWindow"]["duration"] == "01:00"
    assert extensions["Failed"] > 0 and extensions["Succeeded"] > 0
    assert assessments["Failed"] > 0
    assert exceeded
    assert compliance["NonCompliant"] > 0 and compliance["Compliant"] > 0
    assert roles["9980e02c-c2be-4d73-94e8-173b1dc7cf3c"] > 0, "an old assignment holds only VM Contributor"
    assert any(r["tags"].get("aum-patching") == "manual" for r in vms)
    assert any(r["properties"].get("osProfile", {}).get("allowExtensionOperations") is False for r in vms)


def test_the_emulator_loads_a_generated_estate():
    emulator = Emulator.load(generate_estate(machines=120, subscriptions=3, seed=4))
    vm = next(r for r in emulator.state.store.of_type("Microsoft.Compute/virtualMachines"))
    assert emulator.get(str(vm["id"]))["properties"]["instanceView"]


def test_generate_command_writes_the_estate(tmp_path):
    out = tmp_path / "big.json"
    result = CliRunner().invoke(
        emulator_group, ["generate", "--machines", "40", "--subscriptions", "2", "--seed", "9", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written == generate_estate(machines=40, subscriptions=2, seed=9)
    to_stdout = CliRunner().invoke(emulator_group, ["generate", "--machines", "5", "--subscriptions", "1"])
    assert json.loads(to_stdout.output)["tenantId"]
