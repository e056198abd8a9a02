"""The contract checks themselves: they must catch what they claim to catch.

Each test takes a real example or request, breaks it in one way, and expects exactly that to be
reported (and the unbroken original to pass), so a check that silently accepts everything fails.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from remediator.emulator.state import LogEntry
from tests.contract.documented_versions import DOCUMENTED, Documented
from tests.contract.swagger import Example, SpecFolder, service_of
from tests.contract.traffic import Answer, judge, judge_answers

SUB = "00000000-0000-0000-0000-0000000000aa"
REMEDIATION = f"/subscriptions/{SUB}/providers/Microsoft.PolicyInsights/remediations/r1"
VM = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
UNPUBLISHED = "1999-01-01"


def _example(specs: SpecFolder, file_name: str) -> Example:
    found = [e for e in specs.examples() if e.path.name == file_name]
    if not found:
        pytest.skip(f"{file_name} is not in {specs.root}")
    return found[0]


def _body(example: Example, status: str = "200") -> Any:
    return copy.deepcopy(example.responses[status]["body"])


def test_a_faithful_response_passes_and_each_break_is_named(specs: SpecFolder) -> None:
    example = _example(specs, "Remediations_GetSubscriptionScope.json")
    operation = example.operation
    assert operation.response_errors(200, _body(example)) == []

    wrong_type = _body(example)
    wrong_type["properties"]["deploymentStatus"]["totalDeployments"] = "two"
    assert operation.response_errors(200, wrong_type) == [
        "$.properties.deploymentStatus.totalDeployments: 'two' is not of type 'integer'"
    ]

    bad_time = _body(example)
    bad_time["properties"]["createdOn"] = "yesterday"
    [message] = operation.response_errors(200, bad_time)
    assert message.startswith("$.properties.createdOn: 'yesterday' is not a 'date-time'")

    invented = _body(example)
    invented["properties"]["resourceIdz"] = ["/x"]
    assert operation.response_errors(200, invented) == ["$.properties.resourceIdz: property not in the swagger"]


def test_null_is_accepted_only_where_the_swagger_allows_it(specs: SpecFolder) -> None:
    example = _example(specs, "RoleAssignments_Get.json")
    operation = example.operation
    optional = _body(example)
    optional["properties"]["description"] = None  # not required: null allowed (oav's rule)
    assert operation.response_errors(200, optional) == []
    required = _body(example)
    required["properties"]["roleDefinitionId"] = None
    assert operation.response_errors(200, required) == ["$.properties.roleDefinitionId: None is not of type 'string'"]


def test_an_error_status_is_judged_by_the_default_response(specs: SpecFolder) -> None:
    operation = _example(specs, "Remediations_GetSubscriptionScope.json").operation
    assert operation.response_errors(404, {"error": {"code": "NotFound", "message": "gone"}}) == []
    assert operation.response_errors(404, {"error": {"code": 404}}) == ["$.error.code: 404 is not of type 'string'"]


def test_request_bodies_are_held_to_the_body_parameter(specs: SpecFolder) -> None:
    example = _example(specs, "RoleAssignments_CreateForSubscription.json")
    operation = example.operation
    body = copy.deepcopy(example.parameters["parameters"])
    assert operation.body_errors(body) == []
    del body["properties"]["principalId"]
    assert operation.body_errors(body) == ["$.properties: 'principalId' is a required property"]
    assert operation.body_errors(None) == ["RoleAssignments_Create requires a body"]


def test_paths_match_the_most_specific_operation(specs: SpecFolder) -> None:
    def operation_id(method: str, path: str) -> str | None:
        found = specs.match(method, path)
        return found.operation_id if found else None

    assert operation_id("GET", REMEDIATION) == "Remediations_GetAtSubscription"
    assert operation_id("POST", REMEDIATION + "/cancel") == "Remediations_CancelAtSubscription"
    assert operation_id("get", f"{VM}/providers/Microsoft.Maintenance/configurationAssignments/a") == (
        "ConfigurationAssignments_Get"
    )
    assert operation_id("POST", f"/subscriptions/{SUB}/providers/Microsoft.Compute/register") == "Providers_Register"
    # Microsoft.Resources' any-provider and by-id templates never stand in for the provider's own API.
    assert operation_id("GET", VM) is None
    assert service_of(VM + "/extensions/x") == "microsoft.compute/virtualmachines"
    assert service_of(f"/subscriptions/{SUB}/resourceGroups/rg") == "microsoft.resources/resourcegroups"


def _entry(method: str, path: str, api_version: str | None, body: Any = None, **query: str) -> LogEntry:
    return LogEntry(method, path, {"api-version": api_version or "", **query}, 200, 0.0, api_version, body)


def _unswaggered(specs: SpecFolder) -> tuple[str, Documented]:
    """A path of a service the bot calls that the folder has no swagger for, and its documented versions."""
    for service, documented in sorted(DOCUMENTED.items()):
        namespace, kind = service.split("/")
        if namespace != "microsoft.resources" and service not in specs.covered_services:
            return f"/subscriptions/{SUB}/resourceGroups/rg/providers/{namespace}/{kind}/x", documented
    pytest.skip(f"{specs.root} has a swagger for every service documented_versions lists")


def test_traffic_is_checked_counted_or_flagged(specs: SpecFolder) -> None:
    remediation = {"properties": {"policyAssignmentId": "/subscriptions/x/providers/a/b"}}
    elsewhere, documented = _unswaggered(specs)
    report = judge(
        specs,
        [
            _entry("PUT", REMEDIATION, "2021-10-01", remediation),
            _entry("GET", REMEDIATION, "2021-10-01", None, **{"$expand": "x"}),
            _entry("GET", REMEDIATION, UNPUBLISHED),
            _entry("PUT", REMEDIATION, "2021-10-01", {"properties": {"policyAssignmentId": 5}}),
            _entry("GET", elsewhere, documented.versions[0]),
            _entry("GET", elsewhere, UNPUBLISHED),
            _entry("DELETE", f"/subscriptions/{SUB}/providers/Microsoft.PolicyInsights/policyStates", "2019-10-01"),
            _entry("POST", f"/{SUB}/oauth2/v2.0/token", None),
            _entry(
                "POST", "/providers/Microsoft.ResourceGraph/resources", "2021-03-01", {"query": "Resources | top 3"}
            ),
        ],
    )
    assert report.checked == {
        "Remediations_CreateOrUpdateAtSubscription": 2,
        "Remediations_GetAtSubscription": 1,
        "Resources": 1,
    }
    assert report.unchecked == {service_of(elsewhere): 2}
    assert report.not_arm == {"token authority": 1}
    folder_versions = specs.api_versions("GET", REMEDIATION)
    assert "2021-10-01" in folder_versions and UNPUBLISHED not in folder_versions
    assert [f.split(": ", 1)[1] for f in report.failures] == [
        "query parameter '$expand' is not declared",
        f"api-version {UNPUBLISHED} is not one the folder's swaggers define ({', '.join(folder_versions)})",
        "$.properties.policyAssignmentId: 5 is not of type 'string'",
        f"api-version not among {', '.join(documented.versions)} ({documented.source})",
        "no operation in the swaggers for microsoft.policyinsights/policystates matches this method and path",
        "the example replay skips this as unused: KQL summarize/top: the bot's Resource Graph queries only filter "
        "and project rows",
    ]


def test_answers_are_held_to_the_response_schema(specs: SpecFolder) -> None:
    elsewhere, documented = _unswaggered(specs)
    query = {"api-version": "2021-10-01"}
    answers = [
        Answer("GET", REMEDIATION, query, 200, {"id": REMEDIATION, "properties": {"createdOn": "now"}}),
        Answer("GET", REMEDIATION, query, 404, {"error": {"code": "RemediationNotFound", "message": "gone"}}),
        Answer("GET", REMEDIATION, {"api-version": UNPUBLISHED}, 200, {"properties": 5}),  # not the folder's
        Answer("GET", elsewhere, {"api-version": documented.versions[0]}, 200, {"properties": 5}),  # no swagger
    ]
    report = judge_answers(specs, answers)
    assert report.answers == {"Remediations_GetAtSubscription": 2}
    assert report.failures == [
        f"GET {REMEDIATION} -> 200 (Remediations_GetAtSubscription): $.properties.createdOn: 'now' is not a 'date-time'"
    ]


def _declares_resource_ids(specs: SpecFolder, api_version: str) -> bool:
    """Read from the swagger file itself, not through the checker: does this version's
    RemediationFilters have ``resourceIds``? (2024-10-01 does, 2021-10-01 does not.)"""
    operation = specs.match("PUT", REMEDIATION, api_version)
    assert operation is not None and operation.api_version == api_version
    document = json.loads(operation.swagger.read_text(encoding="utf-8-sig"))
    return "resourceIds" in document["definitions"]["RemediationFilters"]["properties"]


def test_each_request_and_answer_is_judged_by_the_swagger_of_its_own_api_version(specs: SpecFolder) -> None:
    versions = specs.api_versions("PUT", REMEDIATION)
    declares = {version: _declares_resource_ids(specs, version) for version in versions}
    if len(set(declares.values())) < 2:
        pytest.skip(f"the folder has no two versions of remediations that differ on filters.resourceIds: {declares}")
    assignment = f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyAssignments/a"
    properties = {"policyAssignmentId": assignment, "filters": {"locations": [], "resourceIds": [VM]}}
    for version, has_resource_ids in declares.items():
        request = judge(specs, [_entry("PUT", REMEDIATION, version, {"properties": properties})])
        answer = judge_answers(
            specs,
            [Answer("GET", REMEDIATION, {"api-version": version}, 200, {"id": REMEDIATION, "properties": properties})],
        )
        assert request.checked == {"Remediations_CreateOrUpdateAtSubscription": 1}, version
        assert request.versions == {f"Remediations_CreateOrUpdateAtSubscription at {version}": 1}
        assert f"  {1:5d}  Remediations_CreateOrUpdateAtSubscription at {version}" in request.summary()
        assert answer.answers == {"Remediations_GetAtSubscription": 1}, version
        unknown = "$.properties.filters.resourceIds: property not in the swagger"
        expected = [] if has_resource_ids else [unknown]
        assert [f.split(": ", 1)[1] for f in request.failures] == expected, version
        assert [f.split(": ", 1)[1] for f in answer.failures] == expected, version


def test_an_operation_is_found_at_each_version_the_folder_has_and_at_no_other(specs: SpecFolder) -> None:
    versions = specs.api_versions("GET", REMEDIATION)
    if not versions:
        pytest.skip(f"no remediations swagger in {specs.root}")
    assert versions == sorted(set(versions)), versions
    for version in versions:
        found = specs.match("GET", REMEDIATION, version)
        assert found is not None and (found.operation_id, found.api_version) == (
            "Remediations_GetAtSubscription",
            version,
        )
    assert specs.match("GET", REMEDIATION, UNPUBLISHED) is None
    newest = specs.match("GET", REMEDIATION)
    assert newest is not None and newest.api_version == versions[-1]


def test_a_published_version_the_folder_lacks_is_counted_unchecked_not_judged_by_another(
    specs: SpecFolder, tmp_path: Path
) -> None:
    older = specs.match("PUT", REMEDIATION, "2021-10-01")
    if older is None:
        pytest.skip(f"no 2021-10-01 remediations swagger in {specs.root}")
    common = specs.root / "specification" / "common-types"
    shutil.copytree(common, tmp_path / "specification" / "common-types")
    kept = tmp_path / older.swagger.relative_to(specs.root)
    kept.parent.mkdir(parents=True)
    shutil.copy(older.swagger, kept)
    folder = SpecFolder(tmp_path)
    assert folder.api_versions("PUT", REMEDIATION) == ["2021-10-01"]
    body = {"properties": {"policyAssignmentId": "/subscriptions/x/providers/a/b", "filters": {"resourceIds": [VM]}}}
    report = judge(folder, [_entry("PUT", REMEDIATION, "2024-10-01", body)])
    assert report.failures == []
    assert report.checked == {}
    assert report.unchecked == {"microsoft.policyinsights/remediations at 2024-10-01": 1}
