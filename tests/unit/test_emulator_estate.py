"""Estate validation: every problem is one line naming the file and the JSON path."""

from __future__ import annotations

import copy
import json

import pytest

from remediator.emulator import Emulator, EstateError
from remediator.emulator.estate_schema import read_estate
from remediator.errors import UsageError

TENANT = "eeeeeeee-0000-4000-8000-000000000001"
SUB = "ffffffff-0000-4000-8000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
BASE = {
    "tenantId": TENANT,
    "subscriptions": [{"subscriptionId": SUB, "providers": {"Microsoft.Compute": "NotRegistered"}}],
    "resources": [{"id": VM, "location": "westeurope", "properties": {"x-unknown": {"kept": 1}}}],
    "policyStates": [],
}


def broken(**changes) -> dict:
    doc = copy.deepcopy(BASE)
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (broken(resources__0__id="vm1"), "estate <dict>: $.resources[0].id: 'vm1' is not an ARM resource id"),
        (broken(tenantId="contoso"), "estate <dict>: $.tenantId: 'contoso' does not match"),
        (
            broken(subscriptions__0__providers={"Microsoft.Compute": "Maybe"}),
            "estate <dict>: $.subscriptions[0].providers['Microsoft.Compute']: 'Maybe' is not one of",
        ),
        (
            broken(resources__0__id=VM.replace(SUB, "ffffffff-0000-4000-8000-0000000000ff")),
            "$.resources[0].id: subscription 'ffffffff-0000-4000-8000-0000000000ff' is not listed",
        ),
        (
            broken(resources__0__type="Microsoft.Compute/disks"),
            "$.resources[0].type: 'Microsoft.Compute/disks' does not match",
        ),
        (broken(resources__0__tags={"env": 3}), "$.resources[0].tags.env: 3 is not of type 'string'"),
        (broken(now="yesterday"), "$.now: 'yesterday' is not an ISO 8601 date-time"),
        (
            broken(
                policyStates=[
                    {
                        "resourceId": VM,
                        "policyAssignmentId": "a1",
                        "policyDefinitionId": VM,
                        "complianceState": "NonCompliant",
                    }
                ]
            ),
            "$.policyStates[0].policyAssignmentId: 'a1' is not an ARM resource id",
        ),
        (broken(emulator={"latencyMs": -1}), "$.emulator.latencyMs: -1 is less than the minimum of 0"),
        (broken(emulator={"unknownKnob": 1}), "$.emulator: Additional properties are not allowed"),
    ],
)
def test_malformed_estate_names_the_json_path(doc, expected):
    with pytest.raises(EstateError) as caught:
        Emulator.load(doc)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, UsageError)


def test_duplicate_ids_are_case_insensitive():
    doc = copy.deepcopy(BASE)
    doc["resources"].append({"id": VM.upper().replace("/SUBSCRIPTIONS/", "/subscriptions/")})
    with pytest.raises(
        EstateError, match=r"\$\.resources\[1\]\.id: duplicate resource id .* \(also at \$\.resources\[0\]\)"
    ):
        Emulator.load(doc)


def test_missing_file_and_invalid_json_are_one_line(tmp_path):
    with pytest.raises(EstateError, match=r"^estate .*nope\.json: no such file$"):
        Emulator.load(str(tmp_path / "nope.json"))
    bad = tmp_path / "bad.json"
    bad.write_text('{"tenantId": ', encoding="utf-8")
    with pytest.raises(EstateError, match=r"^estate bad\.json: invalid JSON at line 1, column 14"):
        Emulator.load(str(bad))
    with pytest.raises(EstateError, match="no bundled estate of that name"):
        Emulator.load("no-such-estate")


def test_file_estate_keeps_unknown_fields_and_fills_implied_resource_groups(tmp_path):
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(BASE), encoding="utf-8")
    emulator = Emulator.load(path)
    assert emulator.get(VM)["properties"]["x-unknown"] == {"kept": 1}
    assert emulator.get(f"/subscriptions/{SUB}/resourcegroups/RG")["type"] == "Microsoft.Resources/resourceGroups"
    assert emulator.provider_state(SUB, "Microsoft.Compute") == "NotRegistered"
    assert emulator.provider_state(SUB, "Microsoft.Maintenance") == "Registered"


def test_bundled_demo_estate_is_valid_and_has_the_documented_subscriptions():
    emulator = Emulator.load("demo")
    _, demo = read_estate("demo")
    states = {
        s["displayName"]: emulator.provider_state(s["subscriptionId"], "Microsoft.Compute")
        for s in demo["subscriptions"]
    }
    assert states["prod-arc"] == "NotRegistered"
    assert states["branch-arc"] == "Registering"
    assert states["sandbox"] == "NotRegistered"
    arc_subs = {r["id"].split("/")[2] for r in demo["resources"] if "HybridCompute/machines/" in r["id"]}
    sandbox = next(s["subscriptionId"] for s in demo["subscriptions"] if s["displayName"] == "sandbox")
    assert sandbox not in arc_subs


def test_graph_export_shape_vm_gets_an_arm_instance_view():
    doc = copy.deepcopy(BASE)
    doc["resources"][0]["properties"] = {"extended": {"instanceView": {"powerState": {"code": "PowerState/stopped"}}}}
    view = Emulator.load(doc).get(VM)["properties"]
    assert "extended" not in view
    assert [s["code"] for s in view["instanceView"]["statuses"]][-1] == "PowerState/stopped"
