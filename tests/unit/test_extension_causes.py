"""Classification of assessment errors into troubleshoot.md's documented causes."""

from __future__ import annotations

import pytest

from playbooks._extension_causes import HRESULT_OTHER, HRESULT_RESOLUTIONS, UNKNOWN, classify


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
