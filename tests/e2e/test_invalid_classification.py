"""invalid-classification end to end: found in the configuration ARM serves, corrected (opt-in)
through the real Maintenance client, and planned again: no changes."""

from __future__ import annotations

from typing import Any

from tests.data.maintenance.estates import SUB_A, configuration, estate, group
from tests.playbook_harness import run_through_emulator, statuses


def _with(config: dict[str, Any], windows: list[str], linux: list[str]) -> dict[str, Any]:
    patches = config["properties"]["installPatches"]
    patches["windowsParameters"]["classificationsToInclude"] = windows
    patches["linuxParameters"]["classificationsToInclude"] = linux
    return config


def scenario() -> dict[str, Any]:
    return estate(
        group(SUB_A, "rg-maint"),
        _with(configuration(SUB_A, "rg-maint", "typo"), ["Critical", "Securty", "updaterollup"], ["Critical", "Other"]),
        _with(configuration(SUB_A, "rg-maint", "all-bad"), ["Important"], ["Security"]),
        # Look-alikes: valid lists, and a valid value spelled in another case.
        _with(configuration(SUB_A, "rg-maint", "fine"), ["Critical", "Security", "Definition"], ["Other"]),
        _with(configuration(SUB_A, "rg-maint", "cased"), ["critical"], ["SECURITY"]),
    )


def _name(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def test_invalid_classifications_are_reported_and_corrected_when_opted_in() -> None:
    result = run_through_emulator(scenario(), ["invalid-classification"], fix={"invalid-classification": True})
    by_name = {_name(f.resource_id): f for f in result.first.findings}
    assert set(by_name) == {"typo", "all-bad"}
    assert by_name["typo"].data["invalid"] == {"windows": ["Securty"]}
    assert by_name["typo"].doc.endswith("#install-patch-operation-fails-for-invalid-classification-type")
    assert not by_name["all-bad"].fixable and "No valid classification is left" in by_name["all-bad"].detail
    (change,) = result.first.changes
    assert change.after == {"windows": ["Critical", "UpdateRollup"]}
    assert statuses(result.applied) == {"applied"}
    stored = result.emulator.state.store.get(change.resource_id)
    assert stored["properties"]["installPatches"]["windowsParameters"]["classificationsToInclude"] == [
        "Critical",
        "UpdateRollup",
    ]
    assert stored["properties"]["installPatches"]["linuxParameters"]["classificationsToInclude"] == [
        "Critical",
        "Other",
    ]
    # Apply, then plan again: no changes; only the one the owner must decide is still reported.
    assert result.again.changes == ()
    assert {_name(f.resource_id) for f in result.again.findings} == {"all-bad"}


def test_without_the_opt_in_nothing_is_planned() -> None:
    result = run_through_emulator(scenario(), ["invalid-classification"])
    assert len(result.first.findings) == 2
    assert result.first.changes == ()
