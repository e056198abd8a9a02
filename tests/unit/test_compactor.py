"""The Compactor shares equal strings and sub-objects; what it returns must equal what it got."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from remediator.estate import Compactor, Resource

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=20,
)


@given(st.lists(JSON, max_size=6))
def test_compacted_values_are_equal_to_the_originals_in_json(values: list[Any]) -> None:
    compactor = Compactor()
    # json.dumps tells 1 from True from 1.0, which == does not.
    assert [json.dumps(compactor.value(v)) for v in values] == [json.dumps(v) for v in values]


def test_equal_sub_objects_of_different_rows_are_one_object() -> None:
    compactor = Compactor()
    row = {
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        "location": "westeurope",
        "properties": {"storageProfile": {"imageReference": {"publisher": "Canonical", "sku": "22_04-lts"}}},
        "resourceGroup": "rg",
    }
    first = Resource.from_arm(json.loads(json.dumps(row)), compactor)
    second = Resource.from_arm(json.loads(json.dumps({**row, "id": row["id"][:-1] + "2"})), compactor)
    assert first.properties is second.properties
    assert first.location is second.location
    assert first.extra is second.extra and first.raw["resourceGroup"] == "rg"
    assert first.id != second.id


def test_values_json_tells_apart_are_not_merged() -> None:
    compactor = Compactor()
    one, true, one_float = compactor.value({"a": 1}), compactor.value({"a": True}), compactor.value({"a": 1.0})
    assert json.dumps([one, true, one_float]) == '[{"a": 1}, {"a": true}, {"a": 1.0}]'
