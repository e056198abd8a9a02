"""Replay every `x-ms-examples` file of the spec folder against a freshly seeded emulator.

One test per example file (its id is the file's path under the folder): the emulator is seeded
with what the example shows (seeding.py, family_seeders.py), the example's request goes out over HTTPS with a
bearer token from the emulator's token endpoint, and the answer must carry a status the example
lists and a body that fits the swagger's schema for that status (schema_rules.py), with the id,
name and type the example shows. First, the same request without a token, without api-version
and at an unpublished api-version must be refused as ARM does (401/400, the error schema).

The same request sent to a tenant that holds nothing must still be answered as the swagger says
(usually a 4xx whose body is the operation's error schema): ARM error bodies are held to it too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediator.emulator import Emulator
from tests.contract.arm_client import ArmCaller
from tests.contract.replay import replay, replay_unseeded
from tests.contract.seeding import TENANT_ID
from tests.contract.skips import KNOWN_EMULATOR_BUGS, skip_reason
from tests.contract.spec_location import load_specs, specs_root
from tests.contract.swagger import Example

SEEDED_REPLAY = "test_example_replays_against_the_emulator"
UNREFERENCED = "no x-ms-examples entry in its swagger names this file, so there is no operation to replay it against"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "example" not in metafunc.fixturenames:
        return
    found = load_specs(specs_root(metafunc.config))
    if isinstance(found, str):
        metafunc.parametrize("example", [pytest.param(None, marks=pytest.mark.skip(reason=found))], ids=["no-specs"])
        return
    params = []
    for example in found.examples():
        marks = []
        reason = skip_reason(example)
        name = found.relative(example.path)
        if reason:
            marks.append(pytest.mark.skip(reason=f"{name}: {reason}"))
        elif example.path.name in KNOWN_EMULATOR_BUGS and metafunc.definition.name == SEEDED_REPLAY:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_EMULATOR_BUGS[example.path.name]))
        params.append(pytest.param(example, marks=marks, id=name))
    for path in found.unreferenced_examples():
        name = found.relative(path)
        params.append(pytest.param(path, marks=pytest.mark.skip(reason=f"{name}: {UNREFERENCED}"), id=name))
    metafunc.parametrize("example", params)


def test_example_replays_against_the_emulator(example: Example | Path) -> None:
    assert isinstance(example, Example)
    outcome = replay(example)
    assert not outcome.errors, f"{example.title} ({example.operation.operation_id}):\n{outcome.explain()}"


@pytest.fixture(scope="module")
def empty_tenant() -> Iterator[ArmCaller]:
    """One served emulator with no subscription and no resource, shared by the unseeded replays."""
    emulator = Emulator.load({"tenantId": TENANT_ID, "subscriptions": []})
    with emulator.serve(port=0) as endpoint:
        yield ArmCaller(endpoint)


def test_example_against_an_empty_tenant_is_answered_as_the_swagger_says(
    example: Example | Path, empty_tenant: ArmCaller
) -> None:
    assert isinstance(example, Example)
    outcome = replay_unseeded(example, empty_tenant)
    assert not outcome.errors, f"{example.title} ({example.operation.operation_id}):\n{outcome.explain()}"
