"""The one cause table: assessment and installation errors into the articles' documented causes."""

from __future__ import annotations

import pytest

from playbooks._update_causes import (
    HRESULT_OTHER,
    HRESULT_RESOLUTIONS,
    INSTALLATION,
    UNKNOWN,
    classify,
    needs_on_machine_checks,
)


def _ids(*texts: str) -> list[str]:
    return [d.cause.id for d in classify(texts)]


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("Exception from HRESULT: 0x8024402C", "hresult"),
        ("WU failed with 0x80072EE2", "hresult"),
        ("Internal execution error", "internal-execution-error"),
        ("Unable to invoke sudo successfully. Output: root is not in the sudoers file.", "sudo"),
        ("Proxy authentication required", "proxy"),
        ("TLS 1.2 check failed", "tls"),
        ("HTTPS connection check failed", "https"),
        ("E: Failed to fetch http://archive.ubuntu.com/ubuntu/dists/jammy/InRelease", "linux-repositories"),
        ("Cannot find a valid baseurl for repo: base/7/x86_64", "linux-repositories"),
        ("MsftLinuxPatchAutoAssess service timed out", "auto-assess-service"),
        ("VMExtensionProvisioningError: extension is in provisioning state Failed", "update-extension"),
    ],
)
def test_each_documented_cause_is_recognised(text: str, cause: str) -> None:
    assert _ids(text) == [cause]


def test_every_cause_an_error_shows_is_reported_once_in_article_order() -> None:
    texts = ["HTTPS connection check failed: TLS handshake error", "proxy refused https://x", "TLS again"]
    assert _ids(*texts) == ["proxy", "tls", "https"]
    first = classify(texts)[1]
    assert first.evidence == texts[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Exception from HRESULT: 0x8024402C", HRESULT_RESOLUTIONS["0x8024402c"]),
        ("exception from hresult: 0x80070422", HRESULT_RESOLUTIONS["0x80070422"]),
        ("Exception from HRESULT: 0x80070005", HRESULT_RESOLUTIONS["0x80070005"]),
        ("Exception from HRESULT: 0x8024001E", HRESULT_RESOLUTIONS["0x8024001e"]),
        ("Exception from HRESULT: 0x80240022", HRESULT_OTHER),
    ],
)
def test_hresult_codes_get_their_row_of_the_exception_table(text: str, expected: str) -> None:
    (diagnosis,) = classify([text])
    assert diagnosis.resolution.endswith(expected)
    assert diagnosis.resolution.lower().startswith(text.rsplit(" ", 1)[-1].lower())


def test_the_wsus_code_carries_both_documented_resolutions() -> None:
    (diagnosis,) = classify(["0x8024402C"])
    assert "network" in diagnosis.resolution.lower()
    assert "WUServer" in diagnosis.resolution


def test_an_hresult_without_a_code_gets_the_general_resolution() -> None:
    (diagnosis,) = classify(["An HRESULT exception was thrown"])
    assert "Try the update locally" in diagnosis.resolution


def test_an_undocumented_error_is_unclassified_and_no_error_is_nothing() -> None:
    (diagnosis,) = classify(["Something odd"])
    assert diagnosis.cause is UNKNOWN and diagnosis.evidence == "Something odd"
    assert classify([]) == ()
    assert classify(["", ""]) == ()


def test_words_are_matched_as_words() -> None:
    # "pseudo" contains "sudo", "reposition" is no repository, "https" is not "http".
    assert _ids("pseudo-terminal allocation failed") == ["unclassified"]
    assert _ids("http endpoint unreachable") == ["unclassified"]


# The articles' own words, verbatim (troubleshoot.md, troubleshoot-maintenance-configurations.md,
# and the Japanese original in seeds/, which quotes the same English messages).
ARTICLE_MESSAGES = [
    (
        "EXCEPTION: Exception('Unable to invoke sudo successfully. Output: root is not in the sudoers file. "
        "This incident will be reported. False ',)",
        "assessment",
        ["sudo"],
        "troubleshoot.md#sudo-privileges-arent-present",
    ),
    (
        "The service cannot be started, either because it is disabled or because it has no enabled devices "
        "associated with it. (Exception from HRESULT: 0x80070422)",
        "assessment",
        ["hresult"],
        "troubleshoot.md#machine-is-not-assessed-and-shows-an-hresult-exception",
    ),
    (
        "Update Manager fails to patch the VM and produces an internal execution error.",
        "installation",
        ["internal-execution-error"],
        "troubleshoot.md#you-get-an-internal-execution-error",
    ),
    (
        "Scheduled patching doesn't install the patches on the VMs and gives a `ShutdownOrUnresponsive` error.",
        "installation",
        ["shutdown-or-unresponsive"],
        "troubleshoot.md#you-get-a-shutdownorunresponsive-error",
    ),
    (
        "Schedule timeout, waiting for an ongoing update to complete the resource",
        "installation",
        ["schedule-timeout"],
        "troubleshoot-maintenance-configurations.md#schedule-timeout-waiting-for-an-ongoing-update-to-complete-the-resource",
    ),
    (
        "Install patch operation failed due to invalid classification type in Maintenance Configuration",
        "installation",
        ["invalid-classification"],
        "troubleshoot-maintenance-configurations.md#install-patch-operation-fails-for-invalid-classification-type",
    ),
    (
        "The check for ensuring that you're using TLS 1.2 fails.",
        "assessment",
        ["tls"],
        "troubleshoot.md#tls-12-check-fails",
    ),
    (
        "The check for ensuring the availability of an HTTPS connection fails.",
        "assessment",
        ["https"],
        "troubleshoot.md#https-connection-check-fails",
    ),
    (
        "MsftLinuxPatchAutoAssess service isn't running or times out",
        "assessment",
        ["auto-assess-service"],
        "troubleshoot.md#msftlinuxpatchautoassess-service-isnt-running-or-times-out",
    ),
]


@pytest.mark.parametrize(("text", "phase", "causes", "section"), ARTICLE_MESSAGES)
def test_the_articles_exact_messages_get_their_cause_and_section(
    text: str, phase: str, causes: list[str], section: str
) -> None:
    found = classify([text], phase)
    assert [d.cause.id for d in found] == causes
    assert found[0].cause.doc == section


def test_a_repository_url_is_a_repository_error_not_an_https_check() -> None:
    text = (
        "E: Failed to fetch https://packages.microsoft.com/ubuntu/22.04/prod/dists/jammy/InRelease  Could not connect"
    )
    assert _ids(text) == ["linux-repositories"]
    # The on-machine checks are still offered: Azure cannot tell whether a proxy or TLS is behind it.
    assert needs_on_machine_checks(classify([text]))


def test_a_keyword_alone_is_not_a_failed_check() -> None:
    # A proxy configured, TLS negotiated, an https URL: none of them is a failed check.
    assert _ids("Using proxy http://10.0.0.1:3128 for https://example.com") == ["unclassified"]
    assert _ids("TLS 1.3 negotiated") == ["unclassified"]


def test_installation_only_causes_are_not_read_into_an_assessment() -> None:
    assert _ids("ShutdownOrUnresponsive") == ["unclassified"]
    assert [d.cause.id for d in classify(["ShutdownOrUnresponsive"], INSTALLATION)] == ["shutdown-or-unresponsive"]
    assert [d.cause.id for d in classify(["MsftLinuxPatchAutoAssess timed out"], INSTALLATION)] == ["unclassified"]


def test_sudo_is_no_network_problem_but_a_wsus_hresult_is() -> None:
    assert not needs_on_machine_checks(classify(["root is not in the sudoers file"]))
    assert needs_on_machine_checks(classify(["Exception from HRESULT: 0x8024402C"]))
    assert not needs_on_machine_checks(classify(["Exception from HRESULT: 0x80070005"]))


def test_the_messages_the_japanese_original_quotes_get_their_cause() -> None:
    from pathlib import Path

    seed = Path(__file__).resolve().parents[2] / ".." / "shared" / "seeds" / "000_4c91ac861ca13145.txt"
    if not seed.is_file():
        pytest.skip("shared seeds not present")
    lines = seed.read_text(encoding="utf-8").splitlines()
    wuauserv = next(line for line in lines if "(Exception from HRESULT: 0x80070422)" in line)
    (diagnosis,) = classify([wuauserv.split(") ")[0] + ")"])
    assert diagnosis.cause.id == "hresult" and "wuauserv" in diagnosis.resolution
    shutdown = next(line for line in lines if "'ShutdownOrUnresponsive'" in line)
    assert [d.cause.id for d in classify([shutdown], INSTALLATION)] == ["shutdown-or-unresponsive"]
