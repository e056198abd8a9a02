"""installation-errors end to end: failed installation runs read from Resource Graph's
patchinstallationresources through the emulator, classified with cause and section; healthy
look-alikes (a Succeeded run, a failure healed by a later run, a window-exceeded run without
errors, an old failure outside the history) are not flagged."""

from __future__ import annotations

from typing import Any

from tests.data.extension.estates import error, estate, installation, patch_extension, vm
from tests.playbook_harness import run_through_emulator


def _machine(name: str, *runs: dict[str, Any] | tuple[str, Any], os: str = "Windows") -> list[dict[str, Any]]:
    machine = vm(name, os=os)
    out = [machine, patch_extension(machine)]
    for run in runs:
        status, errors, *rest = run if isinstance(run, tuple) else (run["status"], None)
        kwargs = rest[0] if rest else {}
        out.append(installation(machine, status, errors, **kwargs))
    return out


def scenario() -> dict[str, Any]:
    return estate(
        *_machine("win-internal", ("Failed", error("InternalError", "Internal execution error while patching"))),
        *_machine(
            "win-hresult",
            ("Failed", error("PatchOperationFailed", "Exception from HRESULT: 0x8024002E")),
        ),
        *_machine(
            "lin-sudo",
            ("Failed", error("Failed", "Unable to invoke sudo successfully. Output: root is not in the sudoers file.")),
            os="Linux",
        ),
        *_machine(
            "lin-repo",
            (
                "CompletedWithWarnings",
                error("Failed", "E: Failed to fetch https://repo.example/ubuntu/jammy/InRelease"),
            ),
            os="Linux",
        ),
        *_machine("win-shutdown", ("Failed", error("ShutdownOrUnresponsive", "VM is shut down or unresponsive"))),
        # Look-alikes of healthy machines.
        *_machine("win-ok", ("Succeeded", None)),
        *_machine(
            "win-healed",
            ("Failed", error("InternalError", "Internal execution error"), {"when": "2026-11-20T22:00:00Z"}),
            ("Succeeded", None, {"when": "2026-11-25T22:00:00Z"}),
        ),
        *_machine("win-window", ("Failed", None, {"exceeded": True})),
        *_machine(
            "win-old", ("Failed", error("InternalError", "Internal execution error"), {"when": "2026-09-01T22:00:00Z"})
        ),
    )


def _name(resource_id: str) -> str:
    return resource_id.rsplit("/", 1)[-1]


def test_failed_installations_are_found_with_cause_and_section_and_look_alikes_are_not() -> None:
    result = run_through_emulator(scenario(), ["installation-errors"])
    by_name = {_name(f.resource_id): f for f in result.first.findings}
    assert {n: f.data["causes"] for n, f in by_name.items()} == {
        "win-internal": ["internal-execution-error"],
        "win-hresult": ["hresult"],
        "lin-sudo": ["sudo"],
        "lin-repo": ["linux-repositories"],
        "win-shutdown": ["shutdown-or-unresponsive"],
    }
    assert by_name["win-internal"].doc == "troubleshoot.md#you-get-an-internal-execution-error"
    assert "retry after a few minutes" in by_name["win-internal"].detail
    assert "Windows Update service is disabled" in by_name["win-hresult"].detail
    assert by_name["win-shutdown"].doc == "troubleshoot.md#you-get-a-shutdownorunresponsive-error"
    assert "/patchInstallationResults/" in by_name["lin-sudo"].data["installation_id"]
    # Report only, nothing written; plan again: the same findings, no changes.
    assert result.first.changes == ()
    assert [e for e in result.emulator.request_log if e.method in ("PUT", "PATCH", "DELETE")] == []
    assert result.again.changes == ()
    assert {f.id for f in result.again.findings} == {f.id for f in result.first.findings}


def test_arc_installation_results_are_read_from_their_own_type() -> None:
    from tests.data.extension.estates import arc, os_update_extension

    machine = arc("arc-sudo")
    failed = installation(machine, "Failed", error("Failed", "root is not in the sudoers file"))
    result = run_through_emulator(
        estate(machine, os_update_extension(machine), failed), ["installation-errors", "update-extension"]
    )
    (finding,) = result.first.findings
    assert finding.playbook == "installation-errors" and finding.data["causes"] == ["sudo"]
    assert "/microsoft.hybridcompute/machines/" in finding.data["installation_id"].lower()
