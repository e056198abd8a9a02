"""The documented causes of a failed patch assessment or installation: ONE table, one row per cause.

Each `Cause` row names its doc section (file and anchor), the operations whose errors can show it
(``assessment``, ``installation``), the words that identify it in ``errorDetails`` and the
section's resolution, shortened. An error can show several causes; every match is reported.
HRESULT codes get the row of the article's exception table that names them.

Proxy, TLS 1.2 and HTTPS are checks the article runs *on the machine* (the Windows Update
troubleshooter, ``nmap``); Azure does not record their results. A row for them matches only an
error that names the failed check itself, and every network-shaped diagnosis carries
`ON_MACHINE_CHECKS`, the documented way to run those checks, instead of a guess from a keyword.
A URL such as ``Failed to fetch https://...`` is a repository that could not be reached, not a
failed HTTPS check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TROUBLESHOOT = "troubleshoot.md"
MAINTENANCE = "troubleshoot-maintenance-configurations.md"
ASSESSMENT = "assessment"
INSTALLATION = "installation"
BOTH = frozenset({ASSESSMENT, INSTALLATION})


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    doc: str  # file#anchor of the section
    phases: frozenset[str]
    resolution: str
    pattern: re.Pattern[str]
    # Network-shaped: the finding adds the on-machine checks Azure cannot show.
    network: bool = False


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


def _section(file: str, anchor: str) -> str:
    return f"{file}#{anchor}"


HRESULT_SECTION = _section(TROUBLESHOOT, "machine-is-not-assessed-and-shows-an-hresult-exception")
ON_MACHINE_CHECKS = (
    "Azure does not record the proxy, TLS 1.2 and HTTPS checks: run them on the machine. Windows: the Windows "
    "Update troubleshooter (https://support.microsoft.com/help/4027322) and 'Issues related to HTTP/Proxy'; "
    "TLS 1.2 is set in Schannel SSP. Linux: `nmap --script ssl-enum-ciphers -p 443 www.azure.com` lists the TLS "
    "versions offered; check that the proxy lets the package manager reach its repositories over HTTPS "
    "[troubleshoot.md#proxy-is-configured, #tls-12-check-fails, #https-connection-check-fails]."
)

# The article's exception table, by code (lowercase); the wording is the table's.
_NETWORK = (
    "Network connectivity problem: make sure the machine reaches Update Manager's endpoints "
    "(prerequisites.md#network-planning)."
)
HRESULT_RESOLUTIONS: dict[str, str] = {
    "0x8024402c": _NETWORK + " With WSUS, check that WUServer and WUStatusServer under "
    "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate name the correct server.",
    "0x8024401c": _NETWORK,
    "0x8024402f": _NETWORK,
    "0x8024001e": "The update operation did not finish because the service or system was shutting down: retry.",
    "0x8024002e": "The Windows Update service is disabled: enable it.",
    "0x80072ee2": (
        "Network problem, or the configured WSUS server cannot be reached: check the WSUS settings and that the "
        "service is reachable from the client."
    ),
    "0x80070422": "Make sure the Windows Update service (wuauserv) is running and not disabled.",
    "0x80070005": (
        "Access denied: an infected computer, Windows Update settings not configured correctly, file permissions "
        "on %WinDir%\\SoftwareDistribution, or too little free space on the system drive."
    ),
}
NETWORK_HRESULTS = frozenset({"0x8024402c", "0x8024401c", "0x8024402f", "0x80072ee2"})
HRESULT_OTHER = (
    "Search the code in the Windows Update error code list (https://support.microsoft.com/help/938205) "
    "to find the cause."
)
_HRESULT_CODE = re.compile(r"\b0x[0-9a-f]{8}\b", re.IGNORECASE)

HRESULT_CAUSE = Cause(
    id="hresult",
    title="the update agent reported an HRESULT exception",
    doc=HRESULT_SECTION,
    phases=BOTH,
    resolution=(
        "The update agent (Windows Update Agent, or the Linux package manager) is not configured correctly. "
        "Try the update locally on the machine; check that it reaches its update endpoints (Windows Update, "
        "or the WSUS server in the WUServer registry key) and read %Windir%\\Windowsupdate.log."
    ),
    pattern=_words(r"hresult", r"\b0x[0-9a-f]{8}\b"),
)

AUTO_ASSESS_ID = "auto-assess-service"
UPDATE_EXTENSION_ID = "update-extension"

CAUSES: tuple[Cause, ...] = (
    HRESULT_CAUSE,
    Cause(
        id="internal-execution-error",
        title="internal execution error",
        doc=_section(TROUBLESHOOT, "you-get-an-internal-execution-error"),
        phases=BOTH,
        resolution=(
            "A temporary platform problem or a communication failure with the VM: retry after a few minutes; make "
            "sure the VM agent is healthy and up to date (reboot if it shows Not Ready); check CPU, memory and disk "
            "use; verify network connectivity to Azure services."
        ),
        pattern=_words(r"internal\s*execution\s*error"),
        network=True,
    ),
    Cause(
        id="sudo",
        title="sudo privileges are not present",
        doc=_section(TROUBLESHOOT, "sudo-privileges-arent-present"),
        phases=BOTH,
        resolution=(
            "The extensions run as root and need sudo: add 'root ALL=(ALL) ALL' to /etc/sudoers (sudo visudo)."
        ),
        pattern=_words(r"\bsudo(ers)?\b"),
    ),
    # The three on-machine checks: only an error naming the failed check itself is evidence.
    Cause(
        id="proxy",
        title="a proxy blocks the required endpoints",
        doc=_section(TROUBLESHOOT, "proxy-is-configured"),
        phases=BOTH,
        resolution=(
            "Windows: see 'Issues related to HTTP/Proxy' in Windows Update troubleshooting. Linux: make sure the "
            "proxy does not block the repositories needed to download and install updates."
        ),
        pattern=_words(
            r"\bproxy\b.{0,80}?\b(check|fail|error|block|refus|denied)",
            r"\bproxy authentication",
            r"\b407\b.{0,80}?proxy",
        ),
        network=True,
    ),
    Cause(
        id="tls",
        title="the TLS 1.2 check fails",
        doc=_section(TROUBLESHOOT, "tls-12-check-fails"),
        phases=BOTH,
        resolution=(
            "TLS 1.0 and 1.1 are deprecated: use TLS 1.2 or later (Windows: Schannel SSP protocols; Linux: check "
            "with `nmap --script ssl-enum-ciphers -p 443 www.azure.com`)."
        ),
        pattern=_words(r"\btls\s*1\.2\b.{0,80}?\b(check|fail)", r"\btls\s*1\.[01]\b", r"\b(tls|ssl)\s+handshake"),
        network=True,
    ),
    Cause(
        id="https",
        title="the HTTPS connection check fails",
        doc=_section(TROUBLESHOOT, "https-connection-check-fails"),
        phases=BOTH,
        resolution="Allow HTTPS connections from the machine to the update endpoints of its operating system.",
        # "https connection ..." — never the scheme of a URL (https://), which is what a repository error shows.
        pattern=_words(
            r"\bhttps\b(?!://).{0,80}?\b(connection|connectivity|check)\b.{0,80}?\b(fail|unavailable|error)"
        ),
        network=True,
    ),
    Cause(
        id="linux-repositories",
        title="the Linux repositories are not accessible",
        doc=_section(TROUBLESHOOT, "linux-repositories-arent-accessible"),
        phases=BOTH,
        resolution=(
            "Make sure network security rules do not block the machine's connections to the repositories it "
            "downloads and assesses updates from."
        ),
        pattern=_words(
            r"repositor(y|ies)",
            r"baseurl",
            r"failed to fetch",
            r"failed to download metadata",
            r"could not resolve host",
            r"temporary failure resolving",
            r"no more mirrors",
        ),
        network=True,
    ),
    Cause(
        id=AUTO_ASSESS_ID,
        title="the MsftLinuxPatchAutoAssess service is not running or times out",
        doc=_section(TROUBLESHOOT, "msftlinuxpatchautoassess-service-isnt-running-or-times-out"),
        phases=frozenset({ASSESSMENT}),
        resolution=(
            "Make sure the LinuxPatchExtension status is Succeeded, then reboot the machine to check that the issue "
            "is resolved."
        ),
        pattern=_words(r"msftlinuxpatchautoassess"),
    ),
    Cause(
        id=UPDATE_EXTENSION_ID,
        title="the patch/update extension is not installed or not Succeeded",
        doc=_section(TROUBLESHOOT, "windowslinux-patch-update-extension-isnt-installed"),
        phases=BOTH,
        resolution="Remove the extension if its status is not Succeeded, then trigger an on-demand operation.",
        pattern=_words(r"VMExtensionProvisioningError", r"\bextension\b.*\b(fail|not succeeded|provisioning)"),
    ),
    Cause(
        id="shutdown-or-unresponsive",
        title="ShutdownOrUnresponsive",
        doc=_section(TROUBLESHOOT, "you-get-a-shutdownorunresponsive-error"),
        phases=frozenset({INSTALLATION}),
        resolution=(
            "A machine deleted and re-created with the same resource id fails scheduled runs for 8 hours "
            "(troubleshoot.md; 12 hours for dynamic scopes in troubleshoot-maintenance-configurations.md): wait out "
            "the buffer and re-assign a static configuration after re-creating the machine; a shut-down machine "
            "must be running 15 minutes before its window."
        ),
        pattern=_words(r"shutdown\s*or\s*unresponsive"),
    ),
    Cause(
        id="schedule-timeout",
        title="schedule timeout: an ongoing (host) update held the machine",
        doc=_section(MAINTENANCE, "schedule-timeout-waiting-for-an-ongoing-update-to-complete-the-resource"),
        phases=frozenset({INSTALLATION}),
        resolution=(
            "The platform's host update window coincided with the guest patching window and only one update runs "
            "at a time: nothing is wrong on the machine; the next window patches it (move the schedule if it recurs)."
        ),
        pattern=_words(r"schedule\s*timeout", r"waiting for an ongoing update"),
    ),
    Cause(
        id="invalid-classification",
        title="invalid classification type in the maintenance configuration",
        doc=_section(MAINTENANCE, "install-patch-operation-fails-for-invalid-classification-type"),
        phases=frozenset({INSTALLATION}),
        resolution=(
            "Set valid classifications in the maintenance configuration's installPatches (playbook "
            "invalid-classification corrects it, opt-in)."
        ),
        pattern=_words(r"invalid\s*classification"),
    ),
)

UNKNOWN = Cause(
    id="unclassified",
    title="an error the troubleshooting article does not list",
    doc=HRESULT_SECTION,
    phases=BOTH,
    resolution="Search for the message and work with your local IT support; the extension's logs on the machine "
    "hold the details.",
    pattern=re.compile(r"(?!)"),
    network=True,
)


@dataclass(frozen=True)
class Diagnosis:
    cause: Cause
    evidence: str
    resolution: str


def classify(texts: Iterable[str], phase: str = ASSESSMENT) -> tuple[Diagnosis, ...]:
    """Every documented cause of ``phase`` the texts show (first evidence each), or `UNKNOWN`."""
    found: dict[str, Diagnosis] = {}
    all_texts = [t for t in texts if t]
    for text in all_texts:
        for cause in CAUSES:
            if phase not in cause.phases or cause.id in found or not cause.pattern.search(text):
                continue
            found[cause.id] = Diagnosis(cause, text, _resolution(cause, text))
    if not found and all_texts:
        return (Diagnosis(UNKNOWN, all_texts[0], UNKNOWN.resolution),)
    order = {cause.id: index for index, cause in enumerate(CAUSES)}
    return tuple(sorted(found.values(), key=lambda d: order[d.cause.id]))


def needs_on_machine_checks(diagnoses: Iterable[Diagnosis]) -> bool:
    """Could a proxy, TLS or HTTPS problem be behind these? Then the on-machine checks apply."""
    for diagnosis in diagnoses:
        if diagnosis.cause.network:
            return True
        code = _HRESULT_CODE.search(diagnosis.evidence)
        if diagnosis.cause is HRESULT_CAUSE and code is not None and code.group(0).lower() in NETWORK_HRESULTS:
            return True
    return False


def _resolution(cause: Cause, text: str) -> str:
    if cause is not HRESULT_CAUSE:
        return cause.resolution
    code = _HRESULT_CODE.search(text)
    if code is None:
        return cause.resolution
    specific = HRESULT_RESOLUTIONS.get(code.group(0).lower(), HRESULT_OTHER)
    return f"{code.group(0)}: {specific}"
