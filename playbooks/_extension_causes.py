"""The documented causes of a failed ("Not assessed") patch assessment, recognised in its errors.

Each `Cause` is one section of troubleshoot.md with the words that identify it in an assessment's
``errorDetails`` and the section's resolution, shortened. An error can show several causes (a TLS
failure is often reported with the HTTPS endpoint it could not reach); every match is reported.
HRESULT codes get the row of the article's exception table that names them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

DOC = "troubleshoot.md"


@dataclass(frozen=True)
class Cause:
    id: str
    title: str
    anchor: str
    resolution: str
    pattern: re.Pattern[str]
    # The playbook that fixes this cause through ARM, if any (the rest need hands on the machine).
    fixed_by: str = ""

    @property
    def doc(self) -> str:
        return f"{DOC}#{self.anchor}"


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(patterns), re.IGNORECASE)


HRESULT_CAUSE = Cause(
    id="hresult",
    title="the update agent reported an HRESULT exception",
    anchor="machine-is-not-assessed-and-shows-an-hresult-exception",
    resolution=(
        "The update agent (Windows Update Agent, or the Linux package manager) is not configured correctly. "
        "Try the update locally on the machine; check that it reaches its update endpoints (Windows Update, "
        "or the WSUS server in the WUServer registry key) and read %Windir%\\Windowsupdate.log."
    ),
    pattern=_words(r"hresult", r"\b0x[0-9a-f]{8}\b"),
)

# The article's exception table, by code (lowercase).
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
HRESULT_OTHER = (
    "Search the code in the Windows Update error code list (https://support.microsoft.com/help/938205) "
    "to find the cause."
)
_HRESULT_CODE = re.compile(r"\b0x[0-9a-f]{8}\b", re.IGNORECASE)

CAUSES: tuple[Cause, ...] = (
    HRESULT_CAUSE,
    Cause(
        id="internal-execution-error",
        title="internal execution error",
        anchor="you-get-an-internal-execution-error",
        resolution=(
            "A temporary platform problem or a communication failure with the VM: retry after a few minutes; make "
            "sure the VM agent is healthy and up to date (reboot if it shows Not Ready); check CPU, memory and disk "
            "use; verify network connectivity to Azure services."
        ),
        pattern=_words(r"internal\s*execution\s*error"),
    ),
    Cause(
        id="sudo",
        title="sudo privileges are not present",
        anchor="sudo-privileges-arent-present",
        resolution=(
            "The extensions run as root and need sudo: add 'root ALL=(ALL) ALL' to /etc/sudoers (sudo visudo)."
        ),
        pattern=_words(r"\bsudo(ers)?\b"),
    ),
    Cause(
        id="proxy",
        title="a proxy blocks the required endpoints",
        anchor="proxy-is-configured",
        resolution=(
            "Windows: see 'Issues related to HTTP/Proxy' in Windows Update troubleshooting. Linux: make sure the "
            "proxy does not block the repositories needed to download and install updates."
        ),
        pattern=_words(r"\bproxy\b"),
    ),
    Cause(
        id="tls",
        title="the TLS 1.2 check fails",
        anchor="tls-12-check-fails",
        resolution=(
            "TLS 1.0 and 1.1 are deprecated: use TLS 1.2 or later (Windows: Schannel SSP protocols; Linux: check "
            "with `nmap --script ssl-enum-ciphers -p 443 www.azure.com`)."
        ),
        pattern=_words(r"\btls\b", r"\bssl\b"),
    ),
    Cause(
        id="https",
        title="the HTTPS connection check fails",
        anchor="https-connection-check-fails",
        resolution="Allow HTTPS connections from the machine to the update endpoints of its operating system.",
        pattern=_words(r"\bhttps\b"),
    ),
    Cause(
        id="linux-repositories",
        title="the Linux repositories are not accessible",
        anchor="linux-repositories-arent-accessible",
        resolution=(
            "Make sure network security rules do not block the machine's connections to the repositories it "
            "downloads and assesses updates from."
        ),
        pattern=_words(
            r"repositor(y|ies)",
            r"baseurl",
            r"failed to fetch",
            r"could not resolve host",
            r"temporary failure resolving",
            r"no more mirrors",
        ),
    ),
    Cause(
        id="auto-assess-service",
        title="the MsftLinuxPatchAutoAssess service is not running or times out",
        anchor="msftlinuxpatchautoassess-service-isnt-running-or-times-out",
        resolution=(
            "Make sure the LinuxPatchExtension status is Succeeded, then reboot the machine to check that the issue "
            "is resolved."
        ),
        pattern=_words(r"msftlinuxpatchautoassess"),
        fixed_by="update-extension",
    ),
    Cause(
        id="update-extension",
        title="the patch/update extension is not installed or not Succeeded",
        anchor="windowslinux-patch-update-extension-isnt-installed",
        resolution="Remove the extension if its status is not Succeeded, then trigger an on-demand assessment.",
        pattern=_words(r"VMExtensionProvisioningError", r"\bextension\b.*\b(fail|not succeeded|provisioning)"),
        fixed_by="update-extension",
    ),
)

UNKNOWN = Cause(
    id="unclassified",
    title="an error the troubleshooting article does not list",
    anchor="machine-is-not-assessed-and-shows-an-hresult-exception",
    resolution="Search for the message and work with your local IT support; the extension's logs on the machine "
    "hold the details.",
    pattern=re.compile(r"(?!)"),
)


@dataclass(frozen=True)
class Diagnosis:
    cause: Cause
    evidence: str
    resolution: str


def classify(texts: Iterable[str]) -> tuple[Diagnosis, ...]:
    """Every documented cause the texts show (first evidence each), or `UNKNOWN` when none does."""
    found: dict[str, Diagnosis] = {}
    all_texts = [t for t in texts if t]
    for text in all_texts:
        for cause in CAUSES:
            if cause.id in found or not cause.pattern.search(text):
                continue
            found[cause.id] = Diagnosis(cause, text, _resolution(cause, text))
    if not found and all_texts:
        return (Diagnosis(UNKNOWN, all_texts[0], UNKNOWN.resolution),)
    order = {cause.id: index for index, cause in enumerate(CAUSES)}
    return tuple(sorted(found.values(), key=lambda d: order[d.cause.id]))


def _resolution(cause: Cause, text: str) -> str:
    if cause is not HRESULT_CAUSE:
        return cause.resolution
    code = _HRESULT_CODE.search(text)
    if code is None:
        return cause.resolution
    specific = HRESULT_RESOLUTIONS.get(code.group(0).lower(), HRESULT_OTHER)
    return f"{code.group(0)}: {specific}"
