"""assessment-errors end to end: failed assessments read from Resource Graph, classified, never changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli_runner import run_cli
from tests.data.extension.estates import arc, assessment, error, estate, patch_extension, vm
from tests.playbook_harness import run_through_emulator

FAILED_MACHINES = 12


def _case(machine: dict[str, Any], errors: Any, status: str = "Failed", **kwargs: Any) -> list[dict[str, Any]]:
    return [machine, patch_extension(machine), assessment(machine, status, errors, **kwargs)]


def scenario() -> dict[str, Any]:
    resources = [
        *_case(vm("win-network"), error("0x8024402C", "Exception from HRESULT: 0x8024402C")),
        *_case(
            vm("win-wuauserv"),
            error(
                "PatchOperationFailed",
                "The service cannot be started, either because it is disabled or because it has no enabled devices "
                "associated with it. (Exception from HRESULT: 0x80070422)",
            ),
        ),
        *_case(vm("win-other-hresult"), error("0x80240022", "Exception from HRESULT: 0x80240022")),
        *_case(
            vm("lin-sudo", os="Linux"),
            error(
                "PatchOperationFailed",
                "EXCEPTION: Exception('Unable to invoke sudo successfully. Output: root is not in the sudoers file. "
                "This incident will be reported. False ',)",
            ),
        ),
        *_case(vm("lin-proxy", os="Linux"), error("Failed", "Proxy at 10.0.0.4:3128 refused the connection")),
        *_case(vm("win-tls"), error("Failed", "The TLS 1.2 check failed: the machine negotiates TLS 1.0")),
        *_case(vm("win-https"), error("Failed", "HTTPS connection check failed")),
        *_case(
            vm("lin-repo", os="Linux"),
            error(
                "Failed",
                "Package manager failed",
                error("AptError", "Failed to fetch http://azure.archive.ubuntu.com/ubuntu/dists/jammy/InRelease"),
            ),
        ),
        *_case(vm("win-internal"), error("Failed", "Internal execution error")),
        *_case(vm("win-unknown"), error("Failed", "Something nobody documented happened")),
        # A Resource Graph row without ``status``: its errors alone mark it failed.
        *_case(arc("arc-no-status"), [error("Failed", "sudo: a terminal is required")], with_status=False),
        *_case(arc("arc-warnings", os="windows"), error("0x8024001E", "HRESULT 0x8024001E"), "CompletedWithWarnings"),
    ]
    healthy = vm("win-healthy")
    resources += [healthy, patch_extension(healthy), assessment(healthy)]
    return estate(*resources)


def _name(resource_id: str) -> str:
    return resource_id.split("/")[8]


def test_failed_assessments_are_classified_by_documented_cause() -> None:
    result = run_through_emulator(scenario(), ["assessment-errors"])
    causes = {_name(f.resource_id): f.data["causes"] for f in result.first.findings}
    assert len(causes) == FAILED_MACHINES
    assert causes == {
        "win-network": ["hresult"],
        "win-wuauserv": ["hresult"],
        "win-other-hresult": ["hresult"],
        "lin-sudo": ["sudo"],
        "lin-proxy": ["proxy"],
        "win-tls": ["tls"],
        "win-https": ["https"],
        "lin-repo": ["linux-repositories"],
        "win-internal": ["internal-execution-error"],
        "win-unknown": ["unclassified"],
        "arc-no-status": ["sudo"],
        "arc-warnings": ["hresult"],
    }
    by_name = {_name(f.resource_id): f for f in result.first.findings}
    assert all(not f.fixable for f in by_name.values())
    assert "WUServer and WUStatusServer" in by_name["win-network"].data["resolutions"]["hresult"]
    assert "wuauserv" in by_name["win-wuauserv"].detail
    assert "Windows Update error code list" in by_name["win-other-hresult"].detail
    assert "shutting down" in by_name["arc-warnings"].detail
    assert "root ALL=(ALL) ALL" in by_name["lin-sudo"].detail
    assert "TLS 1.2 or later" in by_name["win-tls"].detail
    assert by_name["lin-repo"].doc == "troubleshoot.md#linux-repositories-arent-accessible"
    assert by_name["win-internal"].doc == "troubleshoot.md#you-get-an-internal-execution-error"
    assert "Failed to fetch" in by_name["lin-repo"].detail
    # Report only: nothing planned, nothing written; plan again: the same findings, no changes.
    assert result.first.changes == ()
    writes = [e for e in result.emulator.request_log if e.method in ("PUT", "PATCH", "DELETE")]
    assert writes == []
    assert result.again.changes == ()
    assert {f.id for f in result.again.findings} == {f.id for f in result.first.findings}


def test_update_extension_repair_clears_an_extension_caused_failure() -> None:
    machine = vm("lin-auto", os="Linux")
    broken = estate(
        machine,
        patch_extension(machine, "Failed"),
        assessment(machine, "Failed", error("Failed", "MsftLinuxPatchAutoAssess service timed out")),
    )
    result = run_through_emulator(broken, ["update-extension", "assessment-errors"])
    reported = [f for f in result.first.findings if f.playbook == "assessment-errors"]
    assert [f.data["causes"] for f in reported] == [["auto-assess-service"]]
    assert "playbook update-extension does this" in reported[0].detail
    assert result.again.changes == ()
    assert [f for f in result.again.findings if f.playbook == "assessment-errors"] == []


def test_with_the_extension_succeeded_only_a_reboot_is_claimed() -> None:
    machine = vm("lin-auto", os="Linux")
    stuck = estate(
        machine,
        patch_extension(machine),
        assessment(machine, "Failed", error("Failed", "MsftLinuxPatchAutoAssess service timed out")),
    )
    result = run_through_emulator(stuck, ["update-extension", "assessment-errors"])
    (reported,) = [f for f in result.first.findings if f.playbook == "assessment-errors"]
    assert "update-extension" not in reported.detail
    assert "reboot" in reported.data["resolutions"]["auto-assess-service"]
    assert result.first.changes == ()


def test_a_repository_url_is_reported_as_a_repository_error_with_the_on_machine_checks() -> None:
    machine = vm("lin-fetch", os="Linux")
    text = "E: Failed to fetch https://azure.archive.ubuntu.com/ubuntu/dists/jammy/InRelease  Connection timed out"
    result = run_through_emulator(
        estate(machine, patch_extension(machine), assessment(machine, "Failed", error("Failed", text))),
        ["assessment-errors"],
    )
    (finding,) = result.first.findings
    assert finding.data["causes"] == ["linux-repositories"]
    assert finding.doc == "troubleshoot.md#linux-repositories-arent-accessible"
    assert "Azure does not record the proxy, TLS 1.2 and HTTPS checks" in finding.detail
    assert "nmap --script ssl-enum-ciphers" in finding.detail


def test_cli_report_only_run_exits_0_with_findings(tmp_path: Path) -> None:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(scenario()))
    ran = run_cli(["run", "--estate", str(path), "--playbook", "assessment-errors", "--format", "json"])
    assert ran.code == 0, ran.stderr
    doc = json.loads(ran.stdout)
    assert doc["summary"]["findings"] == FAILED_MACHINES
    assert doc["changes"] == []
