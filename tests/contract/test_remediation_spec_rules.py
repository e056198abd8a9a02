"""The emulator enforces what the remediations swagger says in words, not only in its schema.

The 2024-10-01 swagger's ``RemediationFilters.resourceIds`` reads: "Can specify at most 100 IDs.
This filter cannot be used when ReEvaluateCompliance is set to ReEvaluateCompliance, and cannot
be empty if provided." The limit is read from that text in the folder, so a newer swagger that
changes it changes the test. Each refusal is a 400 in the operation's error schema and leaves
nothing behind; a task at a management group outside its assignment's is refused too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from remediator.emulator import Emulator
from tests.contract.arm_client import ArmCaller, json_or_none
from tests.contract.seeding import Seed, stand_in
from tests.contract.swagger import Operation, SpecFolder

SUB = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"
TASK = f"/subscriptions/{SUB}/providers/Microsoft.PolicyInsights/remediations/spec-rules"
ASSIGNMENT = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/spec-rules"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"


def _with_resource_ids(specs: SpecFolder) -> tuple[Operation, str]:
    """The newest PUT-remediation operation whose swagger declares resourceIds, and its description."""
    for version in reversed(specs.api_versions("PUT", TASK)):
        operation = specs.match("PUT", TASK, version)
        assert operation is not None
        document = json.loads(operation.swagger.read_text(encoding="utf-8-sig"))
        declared = document["definitions"]["RemediationFilters"]["properties"].get("resourceIds")
        if declared:
            return operation, str(declared.get("description", ""))
    pytest.skip(f"no remediations swagger in {specs.root} declares filters.resourceIds")


@pytest.fixture
def tenant() -> Iterator[ArmCaller]:
    seed = Seed()
    seed.put(stand_in(ASSIGNMENT))
    seed.put({"id": VM, "name": "vm", "location": "eastus", "properties": {}})
    for group in ("mg-assigned", "mg-sibling"):
        seed.put(stand_in(f"/providers/Microsoft.Management/managementGroups/{group}"))
    estate = seed.estate()
    for resource in estate["resources"]:  # two unrelated groups: neither is above the other
        if resource["id"].startswith("/providers/Microsoft.Management/"):
            resource["properties"]["children"] = []
    with Emulator.load(estate).serve(port=0) as endpoint:
        yield ArmCaller(endpoint)


def _put(caller: ArmCaller, operation: Operation, path: str, properties: dict[str, Any]) -> tuple[int, Any]:
    query = {"api-version": operation.api_version}
    response = caller.call("PUT", path, query, {"properties": properties}, True)
    return response.status_code, json_or_none(response)


def _refused(caller: ArmCaller, operation: Operation, path: str, properties: dict[str, Any], why: str) -> None:
    status, body = _put(caller, operation, path, properties)
    assert status == 400, (why, status, body)
    assert body["error"]["code"] == "InvalidCreateRemediationRequest", (why, body)
    assert operation.response_errors(status, body) == [], (why, body)
    after = caller.call("GET", path, {"api-version": operation.api_version})
    assert after.status_code == 404, (why, after.text)  # nothing was created


def test_resource_ids_filter_rules_from_the_swagger_text(specs: SpecFolder, tenant: ArmCaller) -> None:
    operation, text = _with_resource_ids(specs)
    at_most = re.search(r"at most (\d+)", text)
    assert at_most, f"the resourceIds description no longer states a limit: {text!r}"
    assert "ReEvaluateCompliance" in text and "cannot be empty" in text, text
    limit = int(at_most.group(1))
    ids = [f"{VM}-{index}" for index in range(limit + 1)]

    _refused(tenant, operation, TASK, {"policyAssignmentId": ASSIGNMENT, "filters": {"resourceIds": ids}}, "limit+1")
    _refused(tenant, operation, TASK, {"policyAssignmentId": ASSIGNMENT, "filters": {"resourceIds": []}}, "empty")
    with_re_evaluation = {
        "policyAssignmentId": ASSIGNMENT,
        "resourceDiscoveryMode": "ReEvaluateCompliance",
        "filters": {"resourceIds": [VM]},
    }
    _refused(tenant, operation, TASK, with_re_evaluation, "ReEvaluateCompliance")

    status, body = _put(
        tenant, operation, TASK, {"policyAssignmentId": ASSIGNMENT, "filters": {"resourceIds": ids[:limit]}}
    )
    assert status == 201, body
    assert body["properties"]["filters"]["resourceIds"] == ids[:limit]
    assert operation.response_errors(status, body) == []


def test_a_task_at_a_management_group_outside_its_assignment_is_refused(specs: SpecFolder, tenant: ArmCaller) -> None:
    operation = specs.match("PUT", "/providers/Microsoft.Management/managementGroups/m/providers/"
                            "Microsoft.PolicyInsights/remediations/r", "2024-10-01")  # fmt: skip
    if operation is None:
        pytest.skip(f"no 2024-10-01 management-group remediations in {specs.root}")
    assigned = "/providers/Microsoft.Management/managementGroups/mg-assigned"
    assignment = f"{assigned}/providers/Microsoft.Authorization/policyAssignments/at-group"
    seeded = tenant.call("PUT", assignment, {"api-version": "2025-03-01"}, stand_in(assignment), True)
    assert seeded.status_code in (200, 201), seeded.text
    sibling = (
        "/providers/Microsoft.Management/managementGroups/mg-sibling/providers/Microsoft.PolicyInsights/remediations/r"
    )
    _refused(tenant, operation, sibling, {"policyAssignmentId": assignment}, "a sibling group")
